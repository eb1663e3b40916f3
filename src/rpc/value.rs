//! XML-RPC values as both sides of the codec see them, with the small accessors and
//! constructors method implementations need.

/// A struct member name.
pub type Key = std::borrow::Cow<'static, str>;

/// One XML-RPC value. `Int` is wider than XML-RPC's 32-bit `<int>` so that sizes and times
/// can be carried around freely; the encoder clamps (README R4).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    String(String),
    Double(f64),
    Base64(Vec<u8>),
    /// The `<dateTime.iso8601>` text, `YYYYMMDDTHH:MM:SS` (validated when decoded).
    DateTime(String),
    Array(Vec<Value>),
    /// Members in insertion order: clients see them in this order (rpc.md §5 fixes it).
    /// Names are usually literals: borrowing them saves an allocation per member.
    Struct(Vec<(Key, Value)>),
    Nil,
    /// A whole `<value>` element the server already encoded (a large reply written without
    /// building a tree first). The decoder never produces it.
    Encoded(Encoded),
}

/// A `<value>` written straight into what can become its response: the buffer starts with
/// room (the response head) for a reply made of this value alone, so that reply needs no
/// copy and no shift of a megabyte of XML.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub(crate) buf: String,
    pub(crate) start: usize,
}

impl Encoded {
    /// Writes `head` into `buf` (emptied first); the value goes after it through `out`.
    pub(crate) fn with_head(mut buf: String, head: &str) -> Encoded {
        buf.clear();
        buf.push_str(head);
        Encoded {
            start: buf.len(),
            buf,
        }
    }

    /// Where the value is written.
    pub fn out(&mut self) -> &mut String {
        &mut self.buf
    }

    /// The `<value>` element.
    pub fn xml(&self) -> &str {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

impl Value {
    /// The value as Python's `str()` shows it, for fault texts Supervisor builds with `%s`.
    pub fn py_str(&self) -> String {
        match self {
            Value::String(s) | Value::DateTime(s) => s.clone(),
            Value::Base64(b) => b.iter().map(|&c| c as char).collect(), // Binary: latin-1
            other => other.py_repr(),
        }
    }

    fn py_repr(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => (if *b { "True" } else { "False" }).to_string(),
            Value::Double(d) if d.is_finite() && d.fract() == 0.0 && d.abs() < 1e16 => {
                format!("{d:.1}")
            }
            Value::Double(d) => d.to_string(),
            Value::Nil => "None".to_string(),
            Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(Value::py_repr).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Struct(members) => {
                let members: Vec<String> = members
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{}: {}",
                            Value::String(k.to_string()).py_repr(),
                            v.py_repr()
                        )
                    })
                    .collect();
                format!("{{{}}}", members.join(", "))
            }
            Value::DateTime(_) | Value::Base64(_) => self.py_str(),
            Value::Encoded(_) => String::new(),
        }
    }

    /// A struct from `(key, value)` pairs, keeping their order.
    pub fn structure<K, I>(members: I) -> Value
    where
        K: Into<Key>,
        I: IntoIterator<Item = (K, Value)>,
    {
        Value::Struct(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A struct member by name (the first one, should a decoded struct repeat a key).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Struct(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Base64(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_struct(&self) -> Option<&[(Key, Value)]> {
        match self {
            Value::Struct(m) => Some(m),
            _ => None,
        }
    }

    /// The XML-RPC type name, for "expected X, got Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Double(_) => "double",
            Value::Base64(_) => "base64",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Array(_) => "array",
            Value::Struct(_) => "struct",
            Value::Nil => "nil",
            Value::Encoded(_) => "encoded",
        }
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Int(n.into())
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Int(n.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Double(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::Array(items)
    }
}

#[cfg(test)]
mod tests {
    use super::Value;

    #[test]
    fn py_str_spells_values_as_python_prints_them() {
        assert_eq!(Value::Int(5).py_str(), "5");
        assert_eq!(Value::Bool(true).py_str(), "True");
        assert_eq!(Value::Double(2.0).py_str(), "2.0");
        assert_eq!(Value::Double(1.5).py_str(), "1.5");
        assert_eq!(Value::Nil.py_str(), "None");
        assert_eq!(Value::from("it's").py_str(), "it's");
        assert_eq!(
            Value::Array(vec![Value::from("it's"), Value::Int(1), Value::Nil]).py_str(),
            r"['it\'s', 1, None]"
        );
        assert_eq!(
            Value::structure([("a", Value::Bool(false))]).py_str(),
            "{'a': False}"
        );
    }

    #[test]
    fn accessors_match_only_their_variant() {
        let s = Value::structure([("name", Value::from("cat")), ("pid", Value::from(42))]);
        assert_eq!(s.get("name").and_then(Value::as_str), Some("cat"));
        assert_eq!(s.get("pid").and_then(Value::as_int), Some(42));
        assert_eq!(s.get("nope"), None);
        assert_eq!(s.as_struct().map(<[_]>::len), Some(2));
        assert_eq!(Value::from(42).as_str(), None);
        assert_eq!(Value::from("x").as_int(), None);
        assert_eq!(Value::from(true).as_bool(), Some(true));
        assert_eq!(Value::Int(1).as_bool(), None);
        assert_eq!(Value::from(1.5).as_f64(), Some(1.5));
        assert_eq!(Value::Base64(vec![1]).as_bytes(), Some(&[1u8][..]));
        let a = Value::from(vec![Value::Nil]);
        assert_eq!(a.as_array(), Some(&[Value::Nil][..]));
        assert_eq!(a.get("x"), None);
        assert_eq!(a.type_name(), "array");
    }

    #[test]
    fn struct_keeps_insertion_order() {
        let s = Value::structure([("z", Value::Nil), ("a", Value::Nil), ("m", Value::Nil)]);
        let keys: Vec<&str> = s
            .as_struct()
            .unwrap_or_default()
            .iter()
            .map(|(k, _)| k.as_ref())
            .collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }
}
