//! User and group resolution: `user=` (with the project's `user:group` extension) into a
//! [`UserSpec`], and `user[:group]` of `chown`/`socket_owner` into an [`Owner`]. Ids are looked
//! up once at config time through the reentrant libc calls.

use std::ffi::{CStr, CString};

use super::model::{Owner, UserSpec};
use crate::text::py_int;

/// The fields of a passwd entry that configuration needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passwd {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub dir: String,
}

/// Calls a `get*_r` function with a buffer that grows while the call reports ERANGE.
fn with_buffer<T>(
    mut call: impl FnMut(&mut [libc::c_char]) -> Result<Option<T>, i32>,
) -> Option<T> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        match call(&mut buf) {
            Ok(found) => return found,
            Err(libc::ERANGE) if size < (1 << 22) => size *= 4,
            Err(_) => return None,
        }
    }
}

fn to_passwd(pw: &libc::passwd) -> Passwd {
    // SAFETY: a successful getpw*_r fills pw_name/pw_dir with NUL-terminated strings that live in
    // the buffer, which outlives this call.
    let (name, dir) = unsafe {
        (
            CStr::from_ptr(pw.pw_name).to_string_lossy().into_owned(),
            CStr::from_ptr(pw.pw_dir).to_string_lossy().into_owned(),
        )
    };
    Passwd {
        name,
        uid: pw.pw_uid,
        gid: pw.pw_gid,
        dir,
    }
}

/// `pwd.getpwnam`.
pub fn passwd_by_name(name: &str) -> Option<Passwd> {
    let cname = CString::new(name).ok()?;
    with_buffer(|buf| {
        // SAFETY: passwd is plain old data; all-zero is a valid (empty) value.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the duration of the call, buf.len() is its size.
        let rc = unsafe {
            libc::getpwnam_r(
                cname.as_ptr(),
                &mut pw,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        Ok((!result.is_null()).then(|| to_passwd(&pw)))
    })
}

/// `pwd.getpwuid`.
pub fn passwd_by_uid(uid: u32) -> Option<Passwd> {
    with_buffer(|buf| {
        // SAFETY: as in passwd_by_name.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the duration of the call, buf.len() is its size.
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut result) };
        if rc != 0 {
            return Err(rc);
        }
        Ok((!result.is_null()).then(|| to_passwd(&pw)))
    })
}

/// The gid of group `name`, if it exists.
pub fn group_by_name(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    with_buffer(|buf| {
        // SAFETY: group is plain old data; all-zero is a valid (empty) value.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the duration of the call, buf.len() is its size.
        let rc = unsafe {
            libc::getgrnam_r(
                cname.as_ptr(),
                &mut gr,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        Ok((!result.is_null()).then_some(gr.gr_gid))
    })
}

/// Whether group id `gid` exists.
pub fn group_exists(gid: u32) -> bool {
    with_buffer(|buf| {
        // SAFETY: as in group_by_name.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the duration of the call, buf.len() is its size.
        let rc =
            unsafe { libc::getgrgid_r(gid, &mut gr, buf.as_mut_ptr(), buf.len(), &mut result) };
        if rc != 0 {
            return Err(rc);
        }
        Ok((!result.is_null()).then_some(()))
    })
    .is_some()
}

/// Every group `user` belongs to, `base` (its passwd group) included: getgrouplist(3).
pub fn group_list(user: &str, base: u32) -> Vec<u32> {
    let Ok(cname) = CString::new(user) else {
        return vec![base];
    };
    let mut size: libc::c_int = 32;
    loop {
        let mut groups = vec![0 as libc::gid_t; size as usize];
        let mut n = size;
        // SAFETY: groups has room for n entries; getgrouplist writes at most n and updates n.
        let rc = unsafe { libc::getgrouplist(cname.as_ptr(), base, groups.as_mut_ptr(), &mut n) };
        if rc >= 0 {
            groups.truncate(n.max(0) as usize);
            return groups;
        }
        // -1 means "too small"; n now holds the size needed (glibc), or grow blindly.
        size = if n > size { n } else { size * 2 };
        if size > 1 << 16 {
            return vec![base];
        }
    }
}

/// A numeric id as Python's `int()` reads it, if the text is one. Out-of-range numbers are
/// still "numeric" (they then fail the existence check).
fn numeric_id(s: &str) -> Option<Option<u32>> {
    match py_int(s, 10) {
        Ok(n) => Some(u32::try_from(n).ok()),
        Err(crate::text::IntError::Overflow) => Some(None),
        Err(crate::text::IntError::Invalid) => None,
    }
}

/// Supervisor's `name_to_uid`: a user name or an existing numeric uid.
pub fn name_to_uid(name: &str) -> Result<Passwd, String> {
    match numeric_id(name) {
        Some(id) => id
            .and_then(passwd_by_uid)
            .ok_or_else(|| format!("Invalid user id {name}")),
        None => passwd_by_name(name).ok_or_else(|| format!("Invalid user name {name}")),
    }
}

/// Supervisor's `name_to_gid`: a group name or an existing numeric gid.
pub fn name_to_gid(name: &str) -> Result<u32, String> {
    match numeric_id(name) {
        Some(id) => id
            .filter(|g| group_exists(*g))
            .ok_or_else(|| format!("Invalid group id {name}")),
        None => group_by_name(name).ok_or_else(|| format!("Invalid group name {name}")),
    }
}

/// `user=` value: `name`, `uid`, or (project extension) `user:group` where the group becomes the
/// primary gid. Supplementary groups always come from the user's own membership, so the passwd
/// group stays in the list when `:group` replaces it as primary.
pub fn resolve_user(spec: &str) -> Result<UserSpec, String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let pw = name_to_uid(user)?;
    let gid = match group {
        Some(g) => name_to_gid(g)?,
        None => pw.gid,
    };
    let mut groups = vec![gid];
    for g in group_list(&pw.name, pw.gid) {
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    Ok(UserSpec {
        spec: spec.to_string(),
        name: pw.name,
        uid: pw.uid,
        gid,
        groups,
    })
}

/// `user[:group]` of `chown` / `socket_owner`. `user` alone leaves the group unchanged; `:group`
/// alone (an improvement over 4.3, which rejects it) leaves the owner unchanged.
pub fn parse_owner(spec: &str) -> Result<Owner, String> {
    match spec.split_once(':') {
        None => Ok(Owner {
            uid: Some(name_to_uid(spec)?.uid),
            gid: None,
        }),
        Some(("", g)) => Ok(Owner {
            uid: None,
            gid: Some(name_to_gid(g)?),
        }),
        Some((u, g)) => Ok(Owner {
            uid: Some(name_to_uid(u)?.uid),
            gid: Some(name_to_gid(g)?),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lookups() {
        let root = passwd_by_name("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(passwd_by_uid(0).unwrap().name, "root");
        assert!(passwd_by_name("no_such_user_xyz").is_none());
        assert_eq!(group_by_name("root"), Some(0));
        assert!(group_exists(0));
        assert!(group_by_name("no_such_group_xyz").is_none());
    }

    #[test]
    fn plain_user_by_name_and_id() {
        let u = resolve_user("root").unwrap();
        assert_eq!((u.uid, u.gid, u.name.as_str()), (0, 0, "root"));
        assert_eq!(u.groups[0], 0);
        let u = resolve_user("0").unwrap();
        assert_eq!(u.name, "root");
        assert_eq!(u.spec, "0");
    }

    #[test]
    fn user_errors_match_supervisor() {
        assert_eq!(
            resolve_user("nosuchuser").unwrap_err(),
            "Invalid user name nosuchuser"
        );
        assert_eq!(
            resolve_user("4000000").unwrap_err(),
            "Invalid user id 4000000"
        );
        assert_eq!(resolve_user("-5").unwrap_err(), "Invalid user id -5");
    }

    #[test]
    fn user_group_sets_primary_and_keeps_passwd_group() {
        let g = group_by_name("daemon").unwrap();
        let u = resolve_user("root:daemon").unwrap();
        assert_eq!(u.uid, 0);
        assert_eq!(u.gid, g);
        assert_eq!(u.groups[0], g);
        assert!(u.groups.contains(&0), "passwd group kept: {:?}", u.groups);
        let mut sorted = u.groups.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), u.groups.len(), "no duplicates");

        let u = resolve_user("0:0").unwrap();
        assert_eq!((u.gid, u.groups.clone()), (0, vec![0]));
        let u = resolve_user("root:nogroup").unwrap();
        assert_eq!(u.gid, 65534);
    }

    #[test]
    fn user_group_errors() {
        assert_eq!(
            resolve_user("root:no_such_group_xyz").unwrap_err(),
            "Invalid group name no_such_group_xyz"
        );
        assert_eq!(
            resolve_user("root:4000000").unwrap_err(),
            "Invalid group id 4000000"
        );
        assert_eq!(resolve_user("root:").unwrap_err(), "Invalid group name ");
        assert_eq!(
            resolve_user("nosuch:root").unwrap_err(),
            "Invalid user name nosuch"
        );
    }

    #[test]
    fn owner_forms() {
        assert_eq!(
            parse_owner("root").unwrap(),
            Owner {
                uid: Some(0),
                gid: None
            }
        );
        assert_eq!(
            parse_owner("root:daemon").unwrap(),
            Owner {
                uid: Some(0),
                gid: Some(1)
            }
        );
        assert_eq!(
            parse_owner(":0").unwrap(),
            Owner {
                uid: None,
                gid: Some(0)
            }
        );
        assert!(parse_owner("root:nosuchgroup_xyz").is_err());
        assert!(parse_owner("").is_err());
    }
}
