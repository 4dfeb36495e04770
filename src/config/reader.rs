//! Reading TOML for humans: every value is checked where it stands, and every problem is
//! collected with its file, line and key, so `vigie check` reports them all at once.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_edit::{Item, Table, Value};

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    /// Dotted path of the key (`sources[2].url`), empty for the file as a whole.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match (self.line, self.key.is_empty()) {
            (0, true) => write!(f, "{file}: {}", self.message),
            (0, false) => write!(f, "{file}: `{}`: {}", self.key, self.message),
            (l, true) => write!(f, "{file}:{l}: {}", self.message),
            (l, false) => write!(f, "{file}:{l}: `{}`: {}", self.key, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// All the problems found in a configuration.
#[derive(Debug, Clone, Default)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The source text of one file and the errors found in it so far.
pub struct FileReader<'a> {
    pub file: &'a Path,
    pub src: &'a str,
    pub errors: Vec<ConfigError>,
    /// Byte offsets of the line breaks, for line numbers.
    newlines: Vec<usize>,
}

impl<'a> FileReader<'a> {
    pub fn new(file: &'a Path, src: &'a str) -> Self {
        let newlines = src
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        FileReader {
            file,
            src,
            errors: Vec::new(),
            newlines,
        }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.src.len());
        self.newlines.partition_point(|&n| n < offset) + 1
    }

    pub fn error(
        &mut self,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        let line = span.map(|s| self.line_of(s.start)).unwrap_or(0);
        self.errors.push(ConfigError {
            file: self.file.to_path_buf(),
            line,
            key: key.into(),
            message: message.into(),
        });
    }

    /// Parses the whole document, or records the syntax error and gives `None`.
    pub fn parse(&mut self) -> Option<toml_edit::Document<String>> {
        match toml_edit::Document::parse(self.src.to_string()) {
            Ok(doc) => Some(doc),
            Err(e) => {
                let msg = e.message().trim().to_string();
                self.error(e.span(), "", format!("invalid TOML: {msg}"));
                None
            }
        }
    }

    /// Reads a table: each key asked for is marked as known; [`TableReader::finish`] reports
    /// the others as unknown.
    pub fn table<'t>(&mut self, table: &'t Table, path: impl Into<String>) -> TableReader<'t> {
        TableReader {
            table,
            path: path.into(),
            known: BTreeSet::new(),
        }
    }
}

/// The span of an item, wherever it lives.
pub fn span_of(item: &Item) -> Option<Range<usize>> {
    match item {
        Item::Value(v) => v.span(),
        Item::Table(t) => t.span(),
        Item::ArrayOfTables(a) => a.span(),
        Item::None => None,
    }
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(v) => value_type(v),
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
    }
}

fn value_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "an inline table",
    }
}

/// Reads the keys of one table.
pub struct TableReader<'t> {
    pub table: &'t Table,
    pub path: String,
    known: BTreeSet<&'static str>,
}

impl<'t> TableReader<'t> {
    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The span of a key (its name), else of the table.
    pub fn key_span(&self, key: &str) -> Option<Range<usize>> {
        self.table
            .get_key_value(key)
            .and_then(|(k, v)| k.span().or_else(|| span_of(v)))
            .or_else(|| self.table.span())
    }

    /// The item under `key`, marking the key as known.
    pub fn get(&mut self, key: &'static str) -> Option<&'t Item> {
        self.known.insert(key);
        self.table.get(key).filter(|i| !i.is_none())
    }

    fn wrong_type(&self, r: &mut FileReader<'_>, key: &str, item: &Item, want: &str) {
        r.error(
            span_of(item).or_else(|| self.key_span(key)),
            self.key_path(key),
            format!("expected {want}, found {}", type_name(item)),
        );
    }

    pub fn string(&mut self, r: &mut FileReader<'_>, key: &'static str) -> Option<String> {
        let item = self.get(key)?;
        match item.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.wrong_type(r, key, item, "a string");
                None
            }
        }
    }

    /// A string that must be present.
    pub fn required_string(
        &mut self,
        r: &mut FileReader<'_>,
        key: &'static str,
        what: &str,
    ) -> Option<String> {
        if self.table.get(key).is_none_or(|i| i.is_none()) {
            self.known.insert(key);
            r.error(
                self.table.span(),
                self.key_path(key),
                format!("missing: {what}"),
            );
            return None;
        }
        let s = self.string(r, key)?;
        if s.trim().is_empty() {
            r.error(self.span(key), self.key_path(key), format!("empty: {what}"));
            return None;
        }
        Some(s)
    }

    pub fn bool(&mut self, r: &mut FileReader<'_>, key: &'static str) -> Option<bool> {
        let item = self.get(key)?;
        match item.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong_type(r, key, item, "true or false");
                None
            }
        }
    }

    pub fn integer(
        &mut self,
        r: &mut FileReader<'_>,
        key: &'static str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let item = self.get(key)?;
        match item.as_integer() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(n) => {
                r.error(
                    span_of(item),
                    self.key_path(key),
                    format!("{n} is out of range: expected {min} to {max}"),
                );
                None
            }
            None => {
                self.wrong_type(r, key, item, "an integer");
                None
            }
        }
    }

    pub fn float(
        &mut self,
        r: &mut FileReader<'_>,
        key: &'static str,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        let item = self.get(key)?;
        let v = item
            .as_float()
            .or_else(|| item.as_integer().map(|i| i as f64));
        match v {
            Some(x) if x >= min && x <= max => Some(x),
            Some(x) => {
                r.error(
                    span_of(item),
                    self.key_path(key),
                    format!("{x} is out of range: expected {min} to {max}"),
                );
                None
            }
            None => {
                self.wrong_type(r, key, item, "a number");
                None
            }
        }
    }

    /// An array of strings (a single string is accepted as a one-element list).
    pub fn strings(&mut self, r: &mut FileReader<'_>, key: &'static str) -> Vec<String> {
        let Some(item) = self.get(key) else {
            return Vec::new();
        };
        if let Some(s) = item.as_str() {
            return vec![s.to_string()];
        }
        let Some(arr) = item.as_array() else {
            self.wrong_type(r, key, item, "an array of strings");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, v) in arr.iter().enumerate() {
            match v.as_str() {
                Some(s) => out.push(s.to_string()),
                None => r.error(
                    v.span(),
                    format!("{}[{i}]", self.key_path(key)),
                    format!("expected a string, found {}", value_type(v)),
                ),
            }
        }
        out
    }

    /// A duration such as `30m`, `1h30m`, `20s`, `500ms`, `7d`.
    pub fn duration(&mut self, r: &mut FileReader<'_>, key: &'static str) -> Option<Duration> {
        let s = self.string(r, key)?;
        match parse_duration(&s) {
            Ok(d) => Some(d),
            Err(e) => {
                r.error(self.span(key), self.key_path(key), e);
                None
            }
        }
    }

    /// A duration that must be more than zero (how often to poll, how long to wait).
    pub fn positive_duration(
        &mut self,
        r: &mut FileReader<'_>,
        key: &'static str,
    ) -> Option<Duration> {
        let d = self.duration(r, key)?;
        if d.is_zero() {
            r.error(
                self.span(key),
                self.key_path(key),
                format!("{key} = \"0s\" cannot work: give a duration above zero, such as \"30m\""),
            );
            return None;
        }
        Some(d)
    }

    /// The span of a key's value.
    pub fn span(&self, key: &str) -> Option<Range<usize>> {
        self.table
            .get(key)
            .and_then(span_of)
            .or_else(|| self.key_span(key))
    }

    /// A sub-table (`[a.b]` or inline `{ … }`).
    pub fn sub_table(&mut self, r: &mut FileReader<'_>, key: &'static str) -> Option<Table> {
        let item = self.get(key)?;
        match item {
            Item::Table(t) => Some(t.clone()),
            Item::Value(Value::InlineTable(t)) => Some(t.clone().into_table()),
            other => {
                self.wrong_type(r, key, other, "a table");
                None
            }
        }
    }

    /// Reports every key that was never asked for, with the keys that would be valid.
    pub fn finish(self, r: &mut FileReader<'_>) {
        for (key, item) in self.table.iter() {
            if !self.known.contains(key) {
                let span = self
                    .table
                    .get_key_value(key)
                    .and_then(|(k, _)| k.span())
                    .or_else(|| span_of(item));
                let valid: Vec<&str> = self.known.iter().copied().collect();
                let hint = match closest(key, &valid) {
                    Some(c) => format!("; did you mean `{c}`?"),
                    None => String::new(),
                };
                r.error(
                    span,
                    self.key_path(key),
                    format!(
                        "unknown field `{key}`{hint} (valid here: {})",
                        valid.join(", ")
                    ),
                );
            }
        }
    }
}

/// The valid name closest to a misspelt one, if any is close.
fn closest<'a>(key: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (edit_distance(key, v), *v))
        .filter(|(d, v)| *d <= (v.len() / 3).max(1))
        .min()
        .map(|(_, v)| v)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != *cb) as usize)
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Parses `30m`, `1h30m`, `20s`, `500ms`, `7d`, `2w`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration: expected something like \"30m\", \"20s\" or \"1h30m\"".into());
    }
    if let Ok(secs) = t.parse::<f64>() {
        if secs >= 0.0 && secs.is_finite() {
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!(
                "invalid duration {s:?}: expected something like \"30m\", \"20s\" or \"1h30m\""
            ));
        }
        let n: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("invalid number in duration {s:?}"))?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let secs = match unit {
            "ms" => 0.001,
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86400.0,
            "w" | "week" | "weeks" => 7.0 * 86400.0,
            _ => {
                return Err(format!(
                    "invalid unit {unit:?} in duration {s:?}: use ms, s, m, h, d or w"
                ));
            }
        };
        total += n * secs;
        rest = rest[unit_len..].trim_start();
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert!(parse_duration("3 parsecs").unwrap_err().contains("unit"));
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            closest("intervall", &["interval", "timeout"]),
            Some("interval")
        );
        assert_eq!(closest("colour", &["id", "kind", "url"]), None);
    }
}
