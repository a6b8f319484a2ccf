//! What every request list in the portal shares: filters from the query string (state, flow, the
//! person by name, id or email, dates), the order, numbered pages, and the "51–100 of 205" line, so
//! that no list stops silently at its page size.

use super::audit::day_start;
use serde::Deserialize;
use serde_json::{json, Value};
use sesame_app::{App, RequestListQuery};
use sesame_core::{Directory, FlowId, State, Timestamp, UserId};

/// Rows on one page of a list.
pub const PAGE_ROWS: u32 = 50;

/// The filters and page of a list, as the query string carries them. Every field is text, so that
/// what someone typed can be shown back with what is wrong with it.
#[derive(Deserialize, Default, Clone)]
pub struct ListFilters {
    pub state: Option<String>,
    pub flow: Option<String>,
    /// A person's name, id or email.
    pub who: Option<String>,
    /// `YYYY-MM-DD`, from the start of that day (UTC).
    pub from: Option<String>,
    /// `YYYY-MM-DD`, to the end of that day (UTC).
    pub to: Option<String>,
    /// `newest` (default) or `oldest`.
    pub sort: Option<String>,
    /// 1-based.
    pub page: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The person a "Who" filter names: their id or email, else a display name (case-insensitive,
/// whole or the start of one) that only one person has.
pub fn find_person(directory: &Directory, text: &str) -> Result<UserId, String> {
    if let Some(user) = directory.find_user(text) {
        return Ok(user.id.clone());
    }
    let wanted = text.to_lowercase();
    let exact: Vec<&UserId> = directory
        .users()
        .filter(|u| u.display_name.to_lowercase() == wanted)
        .map(|u| &u.id)
        .collect();
    let candidates = if exact.is_empty() {
        directory
            .users()
            .filter(|u| {
                u.display_name
                    .to_lowercase()
                    .split_whitespace()
                    .any(|part| part.starts_with(&wanted))
                    || u.display_name.to_lowercase().starts_with(&wanted)
            })
            .map(|u| &u.id)
            .collect()
    } else {
        exact
    };
    match candidates.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!("nobody in the directory is called {text:?}")),
        many => Err(format!(
            "{text:?} could be {} people; type more of the name, or an email",
            many.len()
        )),
    }
}

impl ListFilters {
    /// The store's query for one page, or what is wrong with the filters (in words).
    pub fn query(&self, app: &App, oldest_first_default: bool) -> Result<RequestListQuery, String> {
        let directory = app.directory();
        let mut query = RequestListQuery {
            limit: PAGE_ROWS,
            oldest_first: oldest_first_default,
            ..RequestListQuery::default()
        };
        if let Some(state) = given(&self.state) {
            if !State::NAMES.contains(&state) {
                return Err(format!("{state:?} is not a state"));
            }
            query.states = vec![state.to_owned()];
        }
        if let Some(flow) = given(&self.flow) {
            let id = FlowId::new(flow).map_err(|_| format!("{flow:?} is not a flow"))?;
            query.flow = Some(id);
        }
        if let Some(who) = given(&self.who) {
            query.requester = Some(find_person(&directory, who)?);
        }
        let day = |value: &Option<String>, end: bool| match given(value) {
            Some(text) => day_start(text)
                .map(|ms| Some(Timestamp(if end { ms + 86_400_000 } else { ms })))
                .ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD)")),
            None => Ok(None),
        };
        query.created_from = day(&self.from, false)?;
        query.created_until = day(&self.to, true)?;
        match given(&self.sort) {
            None => {}
            Some("oldest") => query.oldest_first = true,
            Some("newest") => query.oldest_first = false,
            Some(other) => return Err(format!("{other:?} is not an order (newest or oldest)")),
        }
        query.offset = (self.page_number()? - 1).saturating_mul(PAGE_ROWS);
        Ok(query)
    }

    fn page_number(&self) -> Result<u32, String> {
        match given(&self.page) {
            None => Ok(1),
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| format!("{text:?} is not a page number")),
        }
    }

    /// The filters as a query string (without the page), for links to other pages.
    pub fn query_string(&self, extra: &[(&str, &str)]) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in extra {
            out.append_pair(name, value);
        }
        for (name, value) in [
            ("state", &self.state),
            ("flow", &self.flow),
            ("who", &self.who),
            ("from", &self.from),
            ("to", &self.to),
            ("sort", &self.sort),
        ] {
            if let Some(v) = given(value) {
                out.append_pair(name, v);
            }
        }
        out.finish()
    }

    /// What the form shows back.
    pub fn echo(&self) -> Value {
        let text = |v: &Option<String>| given(v).unwrap_or_default().to_owned();
        let filtered = [&self.state, &self.flow, &self.who, &self.from, &self.to]
            .iter()
            .any(|v| given(v).is_some());
        json!({
            "state": text(&self.state),
            "flow": text(&self.flow),
            "who": text(&self.who),
            "from": text(&self.from),
            "to": text(&self.to),
            "sort": text(&self.sort),
            "filtered": filtered,
        })
    }
}

/// "Showing 51–100 of 205" and the links around it. `base` is the list's path with its query
/// string (without `page`).
pub fn pager(base: &str, page_param: &str, offset: u32, shown: usize, total: i64) -> Value {
    let page = offset / PAGE_ROWS + 1;
    let pages = u32::try_from((total.max(0) + i64::from(PAGE_ROWS) - 1) / i64::from(PAGE_ROWS))
        .unwrap_or(u32::MAX)
        .max(1);
    let link = |n: u32| {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}{page_param}={n}")
    };
    json!({
        "total": total,
        "first": if shown == 0 { 0 } else { i64::from(offset) + 1 },
        "last": i64::from(offset) + shown as i64,
        "page": page,
        "pages": pages,
        "previous": (page > 1).then(|| link(page - 1)),
        "next": (page < pages).then(|| link(page + 1)),
    })
}

/// The state filter's choices: every state, in words.
pub fn state_choices() -> Vec<Value> {
    State::NAMES
        .iter()
        .map(|name| json!({ "value": name, "label": name.replace('_', " ") }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pager_counts_every_row_and_links_its_neighbours() {
        let p = pager("/requests?scope=all", "page", 50, 50, 205);
        assert_eq!(p["total"], 205);
        assert_eq!(
            (p["first"].clone(), p["last"].clone()),
            (json!(51), json!(100))
        );
        assert_eq!(
            (p["page"].clone(), p["pages"].clone()),
            (json!(2), json!(5))
        );
        assert_eq!(p["previous"], "/requests?scope=all&page=1");
        assert_eq!(p["next"], "/requests?scope=all&page=3");
        let last = pager("/waiting", "tasks_page", 200, 5, 205);
        assert_eq!(last["next"], Value::Null);
        assert_eq!(last["previous"], "/waiting?tasks_page=4");
        let empty = pager("/requests", "page", 0, 0, 0);
        assert_eq!(
            (empty["first"].clone(), empty["pages"].clone()),
            (json!(0), json!(1))
        );
    }
}
