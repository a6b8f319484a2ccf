//! Checking a flow's `fulfillment` settings against the keys a connector understands.

use std::collections::BTreeMap;

/// The keys a connector reads from a flow: `one_of` lists alternatives of which exactly one must
/// be given (such as `group` or `group_id`), `required` keys must all be there, and nothing else
/// is allowed.
pub(crate) struct TargetKeys<'a> {
    pub required: &'a [&'a str],
    pub one_of: &'a [&'a str],
}

impl TargetKeys<'_> {
    pub(crate) fn check(&self, target: &BTreeMap<String, String>) -> Result<(), String> {
        let known = |key: &str| self.required.contains(&key) || self.one_of.contains(&key);
        let unknown: Vec<&str> = target
            .keys()
            .map(String::as_str)
            .filter(|k| !known(k))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "unknown setting{} {}; this connector reads {}",
                if unknown.len() == 1 { "" } else { "s" },
                quoted(&unknown),
                quoted(
                    &self
                        .required
                        .iter()
                        .chain(self.one_of)
                        .copied()
                        .collect::<Vec<_>>()
                ),
            ));
        }
        let missing: Vec<&str> = self
            .required
            .iter()
            .copied()
            .filter(|k| !target.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            return Err(format!("missing {}", quoted(&missing)));
        }
        if !self.one_of.is_empty() {
            let given: Vec<&str> = self
                .one_of
                .iter()
                .copied()
                .filter(|k| target.contains_key(*k))
                .collect();
            if given.len() != 1 {
                return Err(format!(
                    "give exactly one of {} (given: {})",
                    quoted(self.one_of),
                    if given.is_empty() {
                        String::from("none")
                    } else {
                        quoted(&given)
                    }
                ));
            }
        }
        if let Some((key, _)) = target.iter().find(|(_, v)| v.trim().is_empty()) {
            return Err(format!("`{key}` is empty"));
        }
        Ok(())
    }
}

/// The value of `key`, which [`TargetKeys::check`] has made sure is there when it is required.
pub(crate) fn value<'t>(
    target: &'t BTreeMap<String, String>,
    key: &str,
) -> Result<&'t str, String> {
    target
        .get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("the flow's fulfillment has no `{key}`"))
}

fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unknown_missing_ambiguous_and_empty_keys_are_refused() {
        let keys = TargetKeys {
            required: &["role"],
            one_of: &[],
        };
        assert!(keys.check(&target(&[("role", "analyst")])).is_ok());
        let err = keys
            .check(&target(&[("role", "a"), ("rol", "b")]))
            .unwrap_err();
        assert!(err.contains("unknown setting `rol`"), "{err}");
        assert!(keys
            .check(&target(&[]))
            .unwrap_err()
            .contains("missing `role`"));
        assert!(keys
            .check(&target(&[("role", " ")]))
            .unwrap_err()
            .contains("empty"));

        let either = TargetKeys {
            required: &[],
            one_of: &["group", "group_id"],
        };
        assert!(either.check(&target(&[("group_id", "g1")])).is_ok());
        let err = either
            .check(&target(&[("group", "a"), ("group_id", "b")]))
            .unwrap_err();
        assert!(err.contains("exactly one of"), "{err}");
        assert!(either.check(&target(&[])).unwrap_err().contains("none"));
    }
}
