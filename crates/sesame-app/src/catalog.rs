//! The flows loaded from a directory of YAML files. Loading is all or nothing: one bad file and no
//! flow is loaded, so a half-valid catalog never serves requests.

use sesame_core::flow::{parse_flow_checked, ConnectorCheck, FlowError};
use sesame_core::matcher::{Matcher, Vocabulary};
use sesame_core::{Flow, FlowId};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    flows: BTreeMap<FlowId, Flow>,
    /// The flows indexed for free-text matching, built once per catalog.
    matcher: Matcher,
}

impl Catalog {
    pub fn new(flows: impl IntoIterator<Item = Flow>) -> Self {
        let flows: BTreeMap<FlowId, Flow> = flows.into_iter().map(|f| (f.id.clone(), f)).collect();
        let matcher = Matcher::new(flows.values());
        Catalog { flows, matcher }
    }

    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// The same flows, matched with `vocabulary` (the built-in one extended by the site's).
    pub fn with_vocabulary(mut self, vocabulary: &Vocabulary) -> Self {
        self.matcher = Matcher::with_vocabulary(self.flows.values(), vocabulary);
        self
    }

    pub fn get(&self, id: &str) -> Option<&Flow> {
        FlowId::new(id).ok().and_then(|id| self.flows.get(&id))
    }

    pub fn flows(&self) -> impl Iterator<Item = &Flow> {
        self.flows.values()
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Reads every `*.yaml` / `*.yml` file in `dir` (not recursively), in name order.
    pub fn load_dir(dir: &Path) -> Result<Catalog, Vec<FlowError>> {
        Self::load_dir_checked(dir, None)
    }

    /// [`Catalog::load_dir`], with each `fulfillment: { connector: ... }` block checked against
    /// the configured connectors (the name exists, the connector accepts the settings).
    pub fn load_dir_checked(
        dir: &Path,
        connectors: Option<&dyn ConnectorCheck>,
    ) -> Result<Catalog, Vec<FlowError>> {
        let whole_dir = |message: String| {
            vec![FlowError {
                file: dir.display().to_string(),
                position: None,
                path: String::new(),
                message,
            }]
        };
        let entries = std::fs::read_dir(dir)
            .map_err(|e| whole_dir(format!("cannot read the flows directory: {e}")))?;
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        let mut errors = Vec::new();
        let mut flows: BTreeMap<FlowId, (Flow, String)> = BTreeMap::new();
        for path in files {
            let name = path.display().to_string();
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(FlowError {
                        file: name,
                        position: None,
                        path: String::new(),
                        message: format!("cannot read: {e}"),
                    });
                    continue;
                }
            };
            match parse_flow_checked(&name, &text, connectors) {
                Ok(flow) => {
                    if let Some((_, first)) = flows.get(&flow.id) {
                        errors.push(FlowError {
                            file: name,
                            position: None,
                            path: String::from("id"),
                            message: format!("flow id `{}` is already used by {first}", flow.id),
                        });
                    } else {
                        flows.insert(flow.id.clone(), (flow, name));
                    }
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Catalog::new(flows.into_values().map(|(f, _)| f)))
    }
}
