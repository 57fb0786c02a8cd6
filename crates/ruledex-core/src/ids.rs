//! Validated ATT&CK identifiers.
//!
//! Rules spell technique IDs many ways (`t1090.003`, `T1090/003`, URLs). They are parsed here,
//! once, into newtypes that always display in MITRE's canonical form, so the rest of ruledex
//! never compares raw strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ATT&CK technique or sub-technique ID such as `T1090` or `T1090.003`
/// (enterprise, mobile and ICS techniques all share this shape).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TechniqueId {
    number: u16,
    sub: Option<u16>,
}

/// An ATT&CK tactic ID such as `TA0011`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TacticId(u16);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an ATT&CK {what} ID (expected {expected})")]
pub struct IdError {
    input: String,
    what: &'static str,
    expected: &'static str,
}

impl TechniqueId {
    /// The parent technique of a sub-technique, or the technique itself.
    pub fn parent(self) -> TechniqueId {
        TechniqueId { number: self.number, sub: None }
    }

    pub fn is_subtechnique(self) -> bool {
        self.sub.is_some()
    }

    /// The page for this technique on attack.mitre.org.
    pub fn attack_url(self) -> String {
        match self.sub {
            Some(sub) => format!("https://attack.mitre.org/techniques/T{:04}/{:03}/", self.number, sub),
            None => format!("https://attack.mitre.org/techniques/T{:04}/", self.number),
        }
    }

    /// Parses the canonical form and the separators rules use: `.` and `/`
    /// (as in attack.mitre.org URLs), in any letter case.
    fn parse(s: &str) -> Option<TechniqueId> {
        let rest = s.strip_prefix(['T', 't'])?;
        let (number, sub) = match rest.find(['.', '/']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let number = four_digits(number)?;
        let sub = match sub {
            Some(sub) if sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit()) => Some(sub.parse().ok()?),
            Some(_) => return None,
            None => None,
        };
        Some(TechniqueId { number, sub })
    }
}

fn four_digits(s: &str) -> Option<u16> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

impl FromStr for TechniqueId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TechniqueId::parse(s.trim()).ok_or_else(|| IdError {
            input: s.to_string(),
            what: "technique",
            expected: "T followed by four digits, optionally .NNN, like T1090 or T1090.003",
        })
    }
}

impl fmt::Display for TechniqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            Some(sub) => write!(f, "T{:04}.{:03}", self.number, sub),
            None => write!(f, "T{:04}", self.number),
        }
    }
}

impl TacticId {
    pub fn attack_url(self) -> String {
        format!("https://attack.mitre.org/tactics/{self}/")
    }
}

impl FromStr for TacticId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        s.get(..2).filter(|p| p.eq_ignore_ascii_case("TA")).and_then(|_| four_digits(&s[2..])).map(TacticId).ok_or_else(
            || IdError { input: s.to_string(), what: "tactic", expected: "TA followed by four digits, like TA0011" },
        )
    }
}

impl fmt::Display for TacticId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TA{:04}", self.0)
    }
}

macro_rules! string_serde {
    ($ty:ty) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<str>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
string_serde!(TechniqueId);
string_serde!(TacticId);

/// In JSON the IDs are strings in canonical form.
#[cfg(feature = "schema")]
macro_rules! string_schema {
    ($ty:ty, $name:literal, $pattern:literal) => {
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "pattern": $pattern })
            }
        }
    };
}
#[cfg(feature = "schema")]
string_schema!(TechniqueId, "TechniqueId", "^T[0-9]{4}([.][0-9]{3})?$");
#[cfg(feature = "schema")]
string_schema!(TacticId, "TacticId", "^TA[0-9]{4}$");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_ids_normalize_case_and_separators() {
        for input in ["T1090.003", "t1090.003", "T1090/003", " T1090.003 "] {
            let id: TechniqueId = input.parse().unwrap();
            assert_eq!(id.to_string(), "T1090.003", "{input}");
        }
        let id: TechniqueId = "T1090".parse().unwrap();
        assert_eq!(id.to_string(), "T1090");
        assert!(!id.is_subtechnique());
        assert_eq!("T1090.003".parse::<TechniqueId>().unwrap().parent(), id);
    }

    #[test]
    fn malformed_technique_ids_are_rejected() {
        for input in ["T109", "T10900", "t1059.1", "T1059.0001", "TA0011", "1090", "", "T1090.", "T１０９０"] {
            assert!(input.parse::<TechniqueId>().is_err(), "{input:?} should not parse");
        }
    }

    #[test]
    fn technique_urls_point_at_attack_mitre_org() {
        let id: TechniqueId = "T1090.003".parse().unwrap();
        assert_eq!(id.attack_url(), "https://attack.mitre.org/techniques/T1090/003/");
    }

    #[test]
    fn tactic_ids_round_trip() {
        let id: TacticId = "ta0011".parse().unwrap();
        assert_eq!(id.to_string(), "TA0011");
        assert!("TA11".parse::<TacticId>().is_err());
        assert!("T1090".parse::<TacticId>().is_err());
    }

    #[test]
    fn ids_serialize_as_canonical_strings() {
        let id: TechniqueId = "t1090/003".parse().unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"T1090.003\"");
        let back: TechniqueId = serde_json::from_str("\"T1090.003\"").unwrap();
        assert_eq!(back, id);
    }
}
