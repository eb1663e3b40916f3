//! The active process groups: kept in start order (their `Rank`: priority, then the order
//! they were added), from which shutdown's stop order and waves derive too; found by name in
//! constant time; the listener pools listed apart because every event visits them. With ten
//! thousand groups, a scan per lookup (one per spawn, per event, per group added) made
//! start-up, `update` and shutdown quadratic.

use super::events::PoolState;
use super::fcgi::SharedSocket;
use crate::config::{GroupConfig, ProcessConfig};
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A group configuration as a map key, by its name: the key costs a pointer, not a copy of
/// the name.
#[derive(Clone)]
pub struct ByName(pub Arc<GroupConfig>);

impl Borrow<str> for ByName {
    fn borrow(&self) -> &str {
        &self.0.name
    }
}

impl Hash for ByName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that lookups by `&str` find it.
        self.0.name.as_str().hash(state);
    }
}

impl PartialEq for ByName {
    fn eq(&self, other: &ByName) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for ByName {}

pub struct Group {
    pub config: Arc<GroupConfig>,
    /// Process ids in start order.
    pub members: Vec<usize>,
    /// `members` sorted by process name, for groups large enough that a scan would show
    /// (empty otherwise: most groups have one process). A boxed slice: 8 bytes less than a
    /// `Vec` in each of ten thousand groups.
    by_name: Box<[usize]>,
    /// `[supervisord] environment` when the group was created (a change means "changed").
    pub global_env: Arc<[(String, String)]>,
    /// The listening socket of an fcgi-program group (boxed, like `pool`: most groups
    /// have neither, and ten thousand groups each carrying room for both add up).
    pub socket: Option<Box<SharedSocket>>,
    /// The buffer, handler and trigger of an event listener pool.
    pub pool: Option<Box<PoolState>>,
}

/// Members up to this many are found by a scan; a larger group keeps a sorted index.
const SCAN_MEMBERS: usize = 16;

impl Group {
    pub fn new(
        config: Arc<GroupConfig>,
        members: Vec<usize>,
        global_env: Arc<[(String, String)]>,
        socket: Option<SharedSocket>,
        pool: Option<PoolState>,
    ) -> Group {
        let by_name = name_index(&config, &members);
        Group {
            config,
            members,
            by_name,
            global_env,
            socket: socket.map(Box::new),
            pool: pool.map(Box::new),
        }
    }

    /// Adds processes made for `procs` (ids in the same order) at the end of the group
    /// (twiddler's addProgramToGroup).
    pub fn add_members(&mut self, ids: Vec<usize>, procs: Vec<Arc<ProcessConfig>>) {
        self.members.extend(ids);
        Arc::make_mut(&mut self.config).processes.extend(procs);
        self.by_name = name_index(&self.config, &self.members);
    }

    /// Drops the member `id`, whose process is called `name` (twiddler's
    /// removeProcessFromGroup).
    pub fn remove_member(&mut self, id: usize, name: &str) {
        self.members.retain(|&m| m != id);
        Arc::make_mut(&mut self.config)
            .processes
            .retain(|pc| pc.name != name);
        self.by_name = name_index(&self.config, &self.members);
    }

    /// The member called `name`; `name_of` gives a member's process name.
    pub fn member<'a>(
        &self,
        name: &str,
        name_of: impl Fn(usize) -> Option<&'a str>,
    ) -> Option<usize> {
        if self.by_name.is_empty() {
            return self
                .members
                .iter()
                .copied()
                .find(|&id| name_of(id) == Some(name));
        }
        let i = self
            .by_name
            .binary_search_by(|&id| name_of(id).unwrap_or("").cmp(name))
            .ok()?;
        Some(self.by_name[i])
    }
}

/// `members` sorted by process name when the group is large enough to need it. Members are
/// in the order of `config.processes`.
fn name_index(config: &GroupConfig, members: &[usize]) -> Box<[usize]> {
    if members.len() <= SCAN_MEMBERS {
        return Box::default();
    }
    let mut idx: Vec<usize> = (0..members.len()).collect();
    idx.sort_by(|&a, &b| config.processes[a].name.cmp(&config.processes[b].name));
    idx.into_iter().map(|i| members[i]).collect()
}

/// A group's place, fixed when it is added (`Groups::insert`): its priority, then the order
/// groups were added in. Every order of groups derives from it: start order ascending, the
/// shutdown waves descending (`Groups::stop_order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    priority: i64,
    added: u64,
}

impl Rank {
    /// The wave of shutdown that stops the group: one for each priority, the listener
    /// pools' apart from the programs'.
    pub fn wave(self, pool: bool) -> Wave {
        Wave {
            pool,
            priority: self.priority,
        }
    }
}

/// Groups stopped together at shutdown (`shutdown`): their processes stop at the same time,
/// and the next wave starts when every one of them is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wave {
    pool: bool,
    priority: i64,
}

#[derive(Default)]
pub struct Groups {
    /// By group id (stable while the group exists; a removed group's id is used again).
    slots: Vec<Option<(Rank, Group)>>,
    free: Vec<usize>,
    order: BTreeMap<Rank, usize>,
    by_name: HashMap<ByName, usize>,
    /// Ids of the listener pools, in start order.
    pools: Vec<usize>,
    added: u64,
}

impl Groups {
    pub fn new() -> Groups {
        Groups::default()
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Groups in start order.
    pub fn iter(&self) -> impl Iterator<Item = &Group> + '_ {
        self.order.values().filter_map(|&gid| self.at(gid))
    }

    /// Ids of the listener pools, in start order.
    pub fn pools(&self) -> &[usize] {
        &self.pools
    }

    /// Group ids in the order shutdown stops them, each with its wave: start order reversed,
    /// the programs first and the listener pools last (they take the events of the others'
    /// stops until the end).
    pub fn stop_order(&self) -> impl Iterator<Item = (usize, Wave)> + '_ {
        let programs = self
            .order
            .iter()
            .rev()
            .filter(|&(_, &gid)| self.at(gid).is_some_and(|g| g.pool.is_none()))
            .map(|(rank, &gid)| (gid, rank.wave(false)));
        let pools = self.pools.iter().rev().filter_map(|&gid| {
            let (rank, _) = self.slots.get(gid)?.as_ref()?;
            Some((gid, rank.wave(true)))
        });
        programs.chain(pools)
    }

    pub fn at(&self, gid: usize) -> Option<&Group> {
        self.slots.get(gid)?.as_ref().map(|(_, g)| g)
    }

    pub fn at_mut(&mut self, gid: usize) -> Option<&mut Group> {
        self.slots.get_mut(gid)?.as_mut().map(|(_, g)| g)
    }

    pub fn id(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn get(&self, name: &str) -> Option<&Group> {
        self.at(self.id(name)?)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Group> {
        let gid = self.id(name)?;
        self.at_mut(gid)
    }

    /// Adds a group after every group of lower or equal priority (Supervisor sorts its
    /// groups by priority alone, keeping the order they were added in, so a group added or
    /// changed by `update` comes last among its equals). Returns its id.
    pub fn insert(&mut self, group: Group) -> usize {
        let rank = Rank {
            priority: group.config.priority,
            added: self.added,
        };
        self.added += 1;
        let name = ByName(Arc::clone(&group.config));
        let is_pool = group.pool.is_some();
        let gid = match self.free.pop() {
            Some(gid) => {
                self.slots[gid] = Some((rank, group));
                gid
            }
            None => {
                self.slots.push(Some((rank, group)));
                self.slots.len() - 1
            }
        };
        self.order.insert(rank, gid);
        self.by_name.insert(name, gid);
        if is_pool {
            self.pools.push(gid);
            self.sort_pools();
        }
        gid
    }

    pub fn remove(&mut self, name: &str) -> Option<Group> {
        let gid = self.by_name.remove(name)?;
        let (rank, group) = self.slots.get_mut(gid)?.take()?;
        self.order.remove(&rank);
        self.pools.retain(|&p| p != gid);
        self.free.push(gid);
        Some(group)
    }

    fn sort_pools(&mut self) {
        let slots = &self.slots;
        self.pools
            .sort_by_key(|&gid| slots[gid].as_ref().map(|(rank, _)| *rank));
    }
}

impl std::ops::Index<usize> for Groups {
    type Output = Group;

    /// The group with id `gid`; it must exist.
    fn index(&self, gid: usize) -> &Group {
        self.at(gid).expect("no group with this id")
    }
}

impl std::ops::IndexMut<usize> for Groups {
    fn index_mut(&mut self, gid: usize) -> &mut Group {
        self.at_mut(gid).expect("no group with this id")
    }
}

impl<'a> IntoIterator for &'a Groups {
    type Item = &'a Group;
    type IntoIter = Box<dyn Iterator<Item = &'a Group> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GroupKind;

    fn group(name: &str, priority: i64) -> Group {
        let config = GroupConfig {
            name: name.into(),
            priority,
            kind: GroupKind::Program,
            processes: Vec::new(),
        };
        Group::new(Arc::new(config), Vec::new(), Arc::from([]), None, None)
    }

    fn names(g: &Groups) -> Vec<&str> {
        g.iter().map(|g| g.config.name.as_str()).collect()
    }

    #[test]
    fn start_order_is_priority_then_added() {
        let mut g = Groups::new();
        for (n, p) in [("b", 5), ("a", 5), ("c", 1), ("d", 9), ("e", 5)] {
            g.insert(group(n, p));
        }
        assert_eq!(names(&g), ["c", "b", "a", "e", "d"]);
        assert!(g.remove("a").is_some());
        assert!(g.remove("a").is_none());
        // A group added again comes last among its equals; its id is reused.
        let gid = g.insert(group("a", 5));
        assert_eq!(names(&g), ["c", "b", "e", "a", "d"]);
        assert_eq!(g.id("a"), Some(gid));
        assert_eq!(g[gid].config.name, "a");
        assert_eq!(g.len(), 5);
    }

    /// Groups (name, priority, listener pool?) inserted in this order.
    fn ranked(list: &[(&str, i64, bool)]) -> Groups {
        let mut text = String::new();
        for &(name, priority, pool) in list {
            let (section, events) = match pool {
                true => ("eventlistener", "events=PROCESS_STATE\n"),
                false => ("program", ""),
            };
            text += &format!("[{section}:{name}]\ncommand=/bin/cat\npriority={priority}\n{events}");
        }
        let config = crate::testutil::config_after_header(&text).expect("config");
        let mut sup = crate::testutil::supervisor(Vec::new());
        let mut g = Groups::new();
        for &(name, ..) in list {
            let gc = config
                .groups
                .iter()
                .find(|g| g.name == name)
                .expect("group");
            let pool = sup.make_pool(gc);
            g.insert(Group::new(
                Arc::clone(gc),
                Vec::new(),
                Arc::from([]),
                None,
                pool,
            ));
        }
        g
    }

    #[test]
    fn start_order_and_stop_waves_come_from_one_rank() {
        let g = ranked(&[
            ("b", 5, false),
            ("l9", 9, true),
            ("a", 5, false),
            ("c", 1, false),
            ("l1", 1, true),
            ("d", 9, false),
            ("l1b", 1, true),
        ]);
        // Start: priority ascending, equals in the order added, pools among the programs.
        assert_eq!(names(&g), ["c", "l1", "l1b", "b", "a", "l9", "d"]);
        let pools: Vec<&str> = g.pools().iter().map(|&p| &*g[p].config.name).collect();
        assert_eq!(pools, ["l1", "l1b", "l9"]);
        // Stop: start order reversed, programs first, pools last; one priority is one wave.
        let mut waves: Vec<(Wave, Vec<&str>)> = Vec::new();
        for (gid, wave) in g.stop_order() {
            let name = g[gid].config.name.as_str();
            match waves.last_mut() {
                Some((w, names)) if *w == wave => names.push(name),
                _ => waves.push((wave, vec![name])),
            }
        }
        let waves: Vec<Vec<&str>> = waves.into_iter().map(|(_, names)| names).collect();
        assert_eq!(
            waves,
            [
                vec!["d"],
                vec!["a", "b"],
                vec!["c"],
                vec!["l9"],
                vec!["l1b", "l1"]
            ]
        );
    }

    #[test]
    fn many_groups_are_added_found_and_removed_in_linear_time() {
        // 10^5 groups; a scan per insert, lookup or removal would be 10^10 steps.
        let n = 100_000;
        let mut g = Groups::new();
        for i in 0..n {
            g.insert(group(&format!("g{i}"), (i % 7) as i64));
        }
        for i in 0..n {
            assert!(g.get(&format!("g{i}")).is_some());
        }
        let ranks: Vec<i64> = g.iter().map(|g| g.config.priority).collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
        for i in (0..n).step_by(2) {
            g.remove(&format!("g{i}"));
        }
        assert_eq!(g.len(), n / 2);
        assert!(g.get("g1").is_some() && g.get("g0").is_none());
    }
}
