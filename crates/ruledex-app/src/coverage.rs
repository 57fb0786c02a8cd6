//! Coverage answers: what a stack of sources covers of an ATT&CK matrix (and where the gaps'
//! content exists), and the groups, campaigns and software of ATT&CK with the detections for
//! each technique they use.
//!
//! Counts come from the catalog's own technique links ([`ruledex_store::SourceTallies`]):
//! detections listed only through ruledex's mapping of vendor labels are counted apart and
//! only join the counts when asked (`inferred`).
//!
//! `layer` draws a stack's coverage as an ATT&CK Navigator layer.

mod layer;

use std::collections::BTreeMap;

use ruledex_core::attack::{AttackObject, Domain, Technique};
use ruledex_core::ids::{ObjectKind, TacticId, TechniqueId};
use ruledex_core::model::{MappingStatus, SourceKind};
use ruledex_store::{SourceTallies, Tally};

use crate::links;
use crate::request::vocabulary::{HAVE, TACTIC};
pub use crate::request::{CoverageRequest, ObjectRequest, Stack};
use crate::request::{RequestError, closest};
use crate::service::{Answer, Catalog, ServiceError, Suggestion};
use crate::wire::{
    AttackObjectJson, AttackObjectPageJson, CoverageStatus, StackCoverageJson, StackTechniqueJson, StatusSummaryJson,
    TacticCoverageJson, TacticJson, UsedTechniqueJson,
};

/// How many close names an unknown group, campaign or software name offers.
const CLOSEST_OBJECTS: usize = 8;

/// One technique's detections per source, and where it stands for a stack.
struct Counted {
    status: CoverageStatus,
    counts: BTreeMap<String, usize>,
    inferred: BTreeMap<String, usize>,
}

impl Catalog {
    /// For every current technique and sub-technique of a matrix: its detections per source and
    /// whether the stack covers it, other vendors do, only the community does, or nobody.
    pub fn stack_coverage(&self, request: &CoverageRequest) -> Answer<StackCoverageJson> {
        self.check_stack(&request.stack)?;
        let wanted = self.tactics_named(&request.tactics, request.domain)?;
        let tallies = self.tallies()?;
        let attack = self.store().attack();
        let own_sources = self.own_sources(&request.stack);
        let in_scope = |t: &&Technique| {
            t.domain == request.domain
                && !t.revoked
                && !t.deprecated
                && t.tactics.iter().any(|tactic| wanted.contains(tactic))
        };
        let techniques: Vec<StackTechniqueJson> = attack
            .techniques()
            .filter(in_scope)
            .map(|t| {
                let counted = self.counted(tallies, t.id, Some(&request.stack));
                StackTechniqueJson {
                    id: t.id,
                    name: self.technique_name(t.id).unwrap_or_default(),
                    tactics: t.tactics.clone(),
                    status: counted.status,
                    yours: self.own_detections(&counted.counts, &request.stack),
                    href: links::technique_of_sources(t.id, &own_sources, request.stack.inferred),
                    counts: counted.counts,
                    inferred: counted.inferred,
                }
            })
            .collect();
        let mut summary = StatusSummaryJson::default();
        techniques.iter().for_each(|t| summary.add(t.status));
        let tactics = attack
            .tactics()
            .iter()
            .filter(|tactic| wanted.contains(&tactic.id))
            .map(|tactic| {
                let mut per_tactic = StatusSummaryJson::default();
                techniques.iter().filter(|t| t.tactics.contains(&tactic.id)).for_each(|t| per_tactic.add(t.status));
                TacticCoverageJson { tactic: TacticJson::from(tactic), summary: per_tactic }
            })
            .collect();
        Ok(StackCoverageJson {
            have: request.stack.have.clone(),
            community: request.stack.community,
            inferred: request.stack.inferred,
            domain: request.domain,
            attack_version: self.attack_version(),
            tactics,
            techniques,
            summary,
        })
    }

    /// Every current group, campaign or software of a kind, in ID order.
    pub fn attack_objects(&self, kind: ObjectKind) -> Vec<AttackObjectJson> {
        self.store().attack().objects().filter(|o| o.id.kind() == kind && o.is_current()).map(object_json).collect()
    }

    /// The current groups, campaigns and software known to use exactly this technique.
    pub fn technique_users(&self, id: TechniqueId) -> Vec<AttackObjectJson> {
        self.store().attack().users_of(id).map(object_json).collect()
    }

    /// A group, campaign or software (by ID, name or alias, in any letter case) with the
    /// techniques it uses and their detections; with a stack, where each stands.
    pub fn attack_object_page(&self, kind: ObjectKind, request: &ObjectRequest) -> Answer<AttackObjectPageJson> {
        let stack = request.stack.as_ref();
        if let Some(stack) = stack {
            self.check_stack(stack)?;
        }
        let object = self.find_object(kind, &request.name)?;
        let tallies = self.tallies()?;
        let attack = self.store().attack();
        let techniques: Vec<UsedTechniqueJson> = object
            .techniques
            .iter()
            .map(|used| {
                // A deprecated technique is listed but never a gap: it has no status.
                let current = used.status != MappingStatus::Deprecated;
                let counted = self.counted(tallies, used.id, stack.filter(|_| current));
                UsedTechniqueJson {
                    id: used.id,
                    name: self.technique_name(used.id).unwrap_or_default(),
                    tactics: attack.technique(used.id).map(|t| t.tactics.clone()).unwrap_or_default(),
                    named_id: used.named_id,
                    usage: used.description.clone(),
                    detections: counted.counts.values().sum(),
                    counts: counted.counts,
                    inferred: counted.inferred,
                    status: (stack.is_some() && current).then_some(counted.status),
                }
            })
            .collect();
        let summary = stack.map(|_| {
            let mut summary = StatusSummaryJson::default();
            techniques.iter().filter_map(|t| t.status).for_each(|s| summary.add(s));
            summary
        });
        let me = Some(object_json(object));
        let related: Vec<AttackObjectJson> = match kind {
            ObjectKind::Group => attack.campaigns_of(object.id).map(object_json).collect(),
            ObjectKind::Campaign => {
                object.attributed_to.iter().filter_map(|id| attack.object(*id)).map(object_json).collect()
            }
            ObjectKind::Software => attack
                .objects()
                .filter(|o| o.is_current() && o.software.contains(&object.id))
                .map(object_json)
                .collect(),
        };
        Ok(AttackObjectPageJson {
            group: me.clone().filter(|_| kind == ObjectKind::Group),
            campaign: me.clone().filter(|_| kind == ObjectKind::Campaign),
            software: me.filter(|_| kind == ObjectKind::Software),
            description: object.description.clone(),
            have: stack.map(|s| s.have.clone()),
            techniques,
            summary,
            uses_software: object.software.iter().filter_map(|id| attack.object(*id)).map(object_json).collect(),
            related,
        })
    }

    /// The one object of `kind` a query names; a revoked one leads to its replacement.
    fn find_object(&self, kind: ObjectKind, query: &str) -> Answer<&AttackObject> {
        let attack = self.store().attack();
        let found: Vec<&AttackObject> =
            attack.find_objects(query).into_iter().filter(|o| o.id.kind() == kind).collect();
        match found.as_slice() {
            [one] => Ok(one.revoked_by.and_then(|id| attack.object(id)).filter(|_| one.revoked).unwrap_or(one)),
            [] => {
                let close: Vec<&AttackObject> = attack
                    .closest_objects(query, CLOSEST_OBJECTS * 4)
                    .into_iter()
                    .filter(|o| o.id.kind() == kind)
                    .take(CLOSEST_OBJECTS)
                    .collect();
                let names: Vec<String> = close.iter().map(|o| format!("{} ({})", o.name, o.id)).collect();
                let hint = if names.is_empty() {
                    format!("; the web catalog lists them all at {}", links::attack_objects(kind))
                } else {
                    format!("; did you mean {}?", names.join(", "))
                };
                Err(ServiceError::NotFound {
                    message: format!("{query:?} is not the ID, name or alias of an ATT&CK {}{hint}", kind.label()),
                    suggestions: close
                        .iter()
                        .map(|o| Suggestion { label: format!("{} {}", o.id, o.name), href: links::attack_object(o.id) })
                        .collect(),
                })
            }
            several => Err(ServiceError::BadRequest(format!(
                "{query:?} names several ATT&CK {}s: {}; give the ID",
                kind.label(),
                several.iter().map(|o| format!("{} ({})", o.name, o.id)).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Every source of a stack must be configured.
    fn check_stack(&self, stack: &Stack) -> Answer<()> {
        self.check_sources(HAVE, &stack.have)
    }

    /// The tactics of `domain` that `names` name (all of them when none are named).
    fn tactics_named(&self, names: &[String], domain: Domain) -> Answer<Vec<TacticId>> {
        let tactics: Vec<_> = self.store().tactics().iter().filter(|t| t.domain == domain).collect();
        if names.is_empty() {
            return Ok(tactics.iter().map(|t| t.id).collect());
        }
        let squash = |s: &str| s.to_lowercase().replace(['-', '_', ' '], "");
        names
            .iter()
            .map(|name| {
                tactics
                    .iter()
                    .find(|t| {
                        [t.id.to_string(), t.name.clone(), t.shortname.clone()]
                            .iter()
                            .any(|n| squash(n) == squash(name))
                    })
                    .map(|t| t.id)
                    .ok_or_else(|| {
                        let known: Vec<&str> = tactics.iter().map(|t| t.shortname.as_str()).collect();
                        let hint = closest(name, known.iter().copied())
                            .map(|c| format!("; did you mean {c}?"))
                            .unwrap_or_default();
                        let problem = format!(
                            "{name:?} is not a tactic of the {} matrix{hint} (give an ID like TA0011 or one of: {})",
                            domain.label(),
                            known.join(", ")
                        );
                        ServiceError::from(RequestError::new(TACTIC, problem))
                    })
            })
            .collect()
    }

    /// A technique's detections per source, and its status when a stack is given (`None`
    /// otherwise; it is then ignored).
    fn counted(&self, tallies: &SourceTallies, id: TechniqueId, stack: Option<&Stack>) -> Counted {
        let empty = BTreeMap::new();
        let per_source: &BTreeMap<String, Tally> = tallies.of(id).unwrap_or(&empty);
        let with_inferred = stack.is_some_and(|s| s.inferred);
        let counts: BTreeMap<String, usize> = per_source
            .iter()
            .map(|(source, tally)| (source.clone(), tally.counted(with_inferred)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let inferred = per_source
            .iter()
            .filter(|(_, tally)| tally.inferred > 0)
            .map(|(source, tally)| (source.clone(), tally.inferred))
            .collect();
        let status = stack.map_or(CoverageStatus::None, |stack| self.status(&counts, stack));
        Counted { status, counts, inferred }
    }

    fn status(&self, counts: &BTreeMap<String, usize>, stack: &Stack) -> CoverageStatus {
        if self.own_detections(counts, stack) > 0 {
            CoverageStatus::Covered
        } else if counts.keys().any(|s| !self.is_community(s)) {
            CoverageStatus::Elsewhere
        } else if !counts.is_empty() {
            CoverageStatus::CommunityOnly
        } else {
            CoverageStatus::None
        }
    }

    /// How many of a technique's detections (`counts`, per source) are the stack's own: its
    /// sources', and community content's when that counts.
    fn own_detections(&self, counts: &BTreeMap<String, usize>, stack: &Stack) -> usize {
        let own =
            |source: &str| stack.have.iter().any(|h| h == source) || (stack.community && self.is_community(source));
        counts.iter().filter(|(source, _)| own(source)).map(|(_, n)| n).sum()
    }

    /// The sources whose detections are the stack's own: those it has, and the community
    /// sources when community content counts.
    fn own_sources(&self, stack: &Stack) -> Vec<String> {
        let mut own = stack.have.clone();
        if stack.community {
            let community = self.store().sources().iter().map(|s| &s.report.name).filter(|s| self.is_community(s));
            own.extend(community.filter(|s| !stack.have.contains(s)).cloned());
        }
        own
    }

    fn is_community(&self, source: &str) -> bool {
        self.source_kind(source) == Some(SourceKind::Community)
    }

    fn source_kind(&self, source: &str) -> Option<SourceKind> {
        self.store().sources().iter().find(|s| s.report.name == source).map(|s| s.report.kind)
    }
}

fn object_json(object: &AttackObject) -> AttackObjectJson {
    AttackObjectJson::new(object, links::attack_object(object.id))
}
