//! Validated ATT&CK and ATLAS identifiers.
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

/// The kinds of ATT&CK objects that use techniques, each with its ID letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ObjectKind {
    /// An intrusion set, such as APT29 (`G0016`).
    Group,
    /// A campaign, such as the SolarWinds Compromise (`C0024`).
    Campaign,
    /// Malware or a tool, such as Cobalt Strike (`S0154`).
    Software,
}

/// An ATT&CK group (`G0016`), campaign (`C0024`) or software (`S0154`) ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    kind: ObjectKind,
    number: u16,
}

/// A MITRE ATLAS (adversarial AI) technique such as `AML.T0051` or `AML.T0051.000`, or tactic
/// such as `AML.TA0002`. ATLAS is not ATT&CK: its `T` numbers are a separate namespace.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AtlasId {
    tactic: bool,
    number: u16,
    sub: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an {what} ID (expected {expected})")]
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
            Some(sub) => Some(three_digits(sub)?),
            None => None,
        };
        Some(TechniqueId { number, sub })
    }
}

fn three_digits(s: &str) -> Option<u16> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

fn four_digits(s: &str) -> Option<u16> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

impl FromStr for TechniqueId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TechniqueId::parse(s.trim()).ok_or_else(|| IdError {
            input: s.to_string(),
            what: "ATT&CK technique",
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
            || IdError {
                input: s.to_string(),
                what: "ATT&CK tactic",
                expected: "TA followed by four digits, like TA0011",
            },
        )
    }
}

impl fmt::Display for TacticId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TA{:04}", self.0)
    }
}

impl ObjectKind {
    pub const ALL: &'static [ObjectKind] = &[ObjectKind::Group, ObjectKind::Campaign, ObjectKind::Software];

    fn letter(self) -> char {
        match self {
            ObjectKind::Group => 'G',
            ObjectKind::Campaign => 'C',
            ObjectKind::Software => 'S',
        }
    }

    /// The section of attack.mitre.org listing objects of this kind.
    fn url_section(self) -> &'static str {
        match self {
            ObjectKind::Group => "groups",
            ObjectKind::Campaign => "campaigns",
            ObjectKind::Software => "software",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Group => "group",
            ObjectKind::Campaign => "campaign",
            ObjectKind::Software => "software",
        }
    }
}

impl ObjectId {
    pub fn kind(self) -> ObjectKind {
        self.kind
    }

    /// The page for this object on attack.mitre.org.
    pub fn attack_url(self) -> String {
        format!("https://attack.mitre.org/{}/{self}/", self.kind.url_section())
    }
}

impl FromStr for ObjectId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let mut chars = trimmed.chars();
        let letter = chars.next().map(|c| c.to_ascii_uppercase());
        let kind = ObjectKind::ALL.iter().copied().find(|k| Some(k.letter()) == letter);
        kind.zip(four_digits(chars.as_str())).map(|(kind, number)| ObjectId { kind, number }).ok_or_else(|| IdError {
            input: s.to_string(),
            what: "ATT&CK group, campaign or software",
            expected: "G, C or S followed by four digits, like G0016, C0024 or S0154",
        })
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:04}", self.kind.letter(), self.number)
    }
}

impl AtlasId {
    pub fn is_tactic(self) -> bool {
        self.tactic
    }

    /// The page for this technique or tactic on atlas.mitre.org.
    pub fn atlas_url(self) -> String {
        let section = if self.tactic { "tactics" } else { "techniques" };
        format!("https://atlas.mitre.org/{section}/{self}")
    }

    fn parse(s: &str) -> Option<AtlasId> {
        let rest = s.get(..4).filter(|p| p.eq_ignore_ascii_case("AML.")).map(|_| &s[4..])?;
        if let Some(number) = rest.get(..2).filter(|p| p.eq_ignore_ascii_case("TA")).map(|_| &rest[2..]) {
            return Some(AtlasId { tactic: true, number: four_digits(number)?, sub: None });
        }
        let rest = rest.strip_prefix(['T', 't'])?;
        let (number, sub) = match rest.split_once('.') {
            Some((number, sub)) => (number, Some(three_digits(sub)?)),
            None => (rest, None),
        };
        Some(AtlasId { tactic: false, number: four_digits(number)?, sub })
    }
}

impl FromStr for AtlasId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AtlasId::parse(s.trim()).ok_or_else(|| IdError {
            input: s.to_string(),
            what: "ATLAS",
            expected: "AML.T followed by four digits and optionally .NNN, or AML.TA and four digits, like \
                       AML.T0051.000 or AML.TA0002",
        })
    }
}

impl fmt::Display for AtlasId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.tactic, self.sub) {
            (true, _) => write!(f, "AML.TA{:04}", self.number),
            (false, Some(sub)) => write!(f, "AML.T{:04}.{sub:03}", self.number),
            (false, None) => write!(f, "AML.T{:04}", self.number),
        }
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
string_serde!(ObjectId);
string_serde!(AtlasId);

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
#[cfg(feature = "schema")]
string_schema!(ObjectId, "AttackObjectId", "^[GCS][0-9]{4}$");

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
    fn object_ids_know_their_kind_and_page() {
        let group: ObjectId = " g0016".parse().unwrap();
        assert_eq!((group.to_string(), group.kind()), ("G0016".to_string(), ObjectKind::Group));
        assert_eq!(group.attack_url(), "https://attack.mitre.org/groups/G0016/");
        assert_eq!("C0024".parse::<ObjectId>().unwrap().attack_url(), "https://attack.mitre.org/campaigns/C0024/");
        assert_eq!("s0154".parse::<ObjectId>().unwrap().kind(), ObjectKind::Software);
        for input in ["G16", "G00160", "T1090", "X0016", "", "G", "GA016", "G００１６"] {
            assert!(input.parse::<ObjectId>().is_err(), "{input:?} should not parse");
        }
        let error = "APT29".parse::<ObjectId>().unwrap_err().to_string();
        assert_eq!(
            error,
            "\"APT29\" is not an ATT&CK group, campaign or software ID (expected G, C or S followed by four digits, \
             like G0016, C0024 or S0154)"
        );
    }

    #[test]
    fn atlas_ids_are_their_own_namespace() {
        for (input, canonical, url) in [
            ("AML.T0051", "AML.T0051", "https://atlas.mitre.org/techniques/AML.T0051"),
            ("aml.t0051.000", "AML.T0051.000", "https://atlas.mitre.org/techniques/AML.T0051.000"),
            ("AML.TA0002", "AML.TA0002", "https://atlas.mitre.org/tactics/AML.TA0002"),
        ] {
            let id: AtlasId = input.parse().unwrap();
            assert_eq!((id.to_string().as_str(), id.atlas_url().as_str()), (canonical, url), "{input}");
        }
        assert!("AML.TA0002".parse::<AtlasId>().unwrap().is_tactic());
        for input in ["T0051", "AML.T51", "AML.T0051.0", "AML.TA0002.001", "AML.", "AML.T0051/000", "AML"] {
            assert!(input.parse::<AtlasId>().is_err(), "{input:?} should not parse");
        }
        assert!("AML.T0051".parse::<TechniqueId>().is_err(), "an ATLAS ID is not an ATT&CK technique");
    }

    #[test]
    fn ids_serialize_as_canonical_strings() {
        let id: TechniqueId = "t1090/003".parse().unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"T1090.003\"");
        let back: TechniqueId = serde_json::from_str("\"T1090.003\"").unwrap();
        assert_eq!(back, id);
        let group: ObjectId = serde_json::from_str("\"g0016\"").unwrap();
        assert_eq!(serde_json::to_string(&group).unwrap(), "\"G0016\"");
        let atlas: AtlasId = serde_json::from_str("\"aml.t0051.000\"").unwrap();
        assert_eq!(serde_json::to_string(&atlas).unwrap(), "\"AML.T0051.000\"");
    }
}
