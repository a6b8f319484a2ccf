//! `sesame teams package`: the Teams app package an administrator uploads to Teams (or the
//! Developer Portal): `manifest.json` (from `teams/manifest.template.json`, with the bot id, names
//! and the portal's domain from the configuration) and the two icons, zipped.

mod png;
mod zip;

use crate::config::Config;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// The manifest as shipped; every value in parentheses is replaced from the configuration.
const TEMPLATE: &str = include_str!("../../../teams/manifest.template.json");

#[derive(clap::Subcommand)]
pub enum TeamsCommand {
    /// Write the Teams app package (manifest.json and the two icons, zipped) to upload to Teams.
    Package {
        /// Where to write the package.
        #[arg(long, default_value = "sesame-teams.zip")]
        out: PathBuf,
    },
}

pub fn run(config: &Config, command: TeamsCommand) -> anyhow::Result<ExitCode> {
    match command {
        TeamsCommand::Package { out } => {
            let package = package(config)?;
            std::fs::write(&out, package)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "wrote {}: upload it in Teams (Apps > Manage your apps > Upload an app) or the Teams Developer Portal",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Whether `id` is a GUID, as Teams requires for app and bot ids.
fn is_guid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The host of the portal's URL, which Teams must trust for the links in cards.
fn domain_of(public_url: &str) -> anyhow::Result<String> {
    let url = reqwest::Url::parse(public_url)
        .with_context(|| format!("[server] public_url {public_url:?} is not a URL"))?;
    if url.scheme() != "https" {
        bail!("[server] public_url must be an https URL for Teams, not {public_url:?}");
    }
    url.host_str()
        .map(str::to_owned)
        .with_context(|| format!("[server] public_url {public_url:?} has no host"))
}

/// The manifest for this configuration.
pub fn manifest(config: &Config) -> anyhow::Result<Value> {
    let teams = &config.teams;
    let bot_id = teams
        .app_id()
        .context("[teams] app_id is needed for the package")?;
    let app_id = teams.package_id.as_deref().unwrap_or(bot_id);
    for (what, id) in [("app_id", bot_id), ("package_id", app_id)] {
        if !is_guid(id) {
            bail!("[teams] {what} must be a GUID (such as 00000000-0000-0000-0000-000000000000), not {id:?}");
        }
    }
    let name = teams.app_name.trim();
    if name.is_empty() || name.chars().count() > 30 {
        bail!("[teams] app_name must be 1 to 30 characters");
    }
    let public_url = config.server.public_url();
    let public_url = public_url.trim_end_matches('/');
    let domain = domain_of(public_url)?;
    let mut manifest: Value =
        serde_json::from_str(TEMPLATE).context("the manifest template is not JSON")?;
    manifest["version"] = json!(env!("CARGO_PKG_VERSION"));
    manifest["id"] = json!(app_id);
    for key in ["websiteUrl", "privacyUrl", "termsOfUseUrl"] {
        manifest["developer"][key] = json!(public_url);
    }
    manifest["name"]["short"] = json!(name);
    manifest["name"]["full"] = json!(format!("{name}: access requests"));
    manifest["bots"][0]["botId"] = json!(bot_id);
    manifest["validDomains"] = json!([domain]);
    Ok(manifest)
}

/// The package's bytes: a ZIP of the manifest and the icons.
pub fn package(config: &Config) -> anyhow::Result<Vec<u8>> {
    let manifest = serde_json::to_vec_pretty(&manifest(config)?)?;
    zip::store(&[
        ("manifest.json", manifest),
        ("color.png", png::color_icon()),
        ("outline.png", png::outline_icon()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        toml::from_str(&format!(
            "[server]\npublic_url = \"https://sesame.example.com/\"\n[teams]\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn the_manifest_carries_the_configured_bot_and_domain() {
        let config = config(
            "app_id = \"3f2504e0-4f89-11d3-9a0c-0305e82c3301\"\napp_password = \"x\"\napp_name = \"Access\"\n",
        );
        let manifest = manifest(&config).unwrap();
        assert_eq!(manifest["manifestVersion"], "1.22");
        assert_eq!(manifest["id"], "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
        assert_eq!(manifest["bots"][0]["botId"], manifest["id"]);
        assert_eq!(
            manifest["bots"][0]["scopes"],
            json!(["personal", "team", "groupChat"])
        );
        let commands: Vec<&str> = manifest["bots"][0]["commandLists"][0]["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["title"].as_str().unwrap())
            .collect();
        assert_eq!(commands, ["request", "my requests", "help"]);
        assert_eq!(manifest["validDomains"], json!(["sesame.example.com"]));
        assert_eq!(
            manifest["developer"]["websiteUrl"],
            "https://sesame.example.com"
        );
        assert_eq!(manifest["name"]["short"], "Access");
        assert!(
            !manifest.to_string().contains("(the"),
            "every placeholder is replaced"
        );
        // scripts/adaptive-cards-check.sh validates it against Teams' manifest schema.
        if let Some(dir) = std::env::var_os("SESAME_TEAMS_CARD_DIR") {
            let dir = std::path::PathBuf::from(dir);
            std::fs::create_dir_all(&dir).unwrap();
            let pretty = serde_json::to_vec_pretty(&manifest).unwrap();
            std::fs::write(dir.join("teams-app.manifest.json"), pretty).unwrap();
        }
    }

    #[test]
    fn ids_must_be_guids_and_the_portal_https() {
        assert!(manifest(&config("app_id = \"not-a-guid\"\n")).is_err());
        let http: Config = toml::from_str(
            "[server]\npublic_url = \"http://sesame.local\"\n[teams]\napp_id = \"3f2504e0-4f89-11d3-9a0c-0305e82c3301\"\n",
        )
        .unwrap();
        assert!(format!("{:#}", manifest(&http).unwrap_err()).contains("https"));
        assert!(manifest(&config("")).is_err());
    }

    #[test]
    fn the_package_zips_the_manifest_and_both_icons() {
        let config = config("app_id = \"3f2504e0-4f89-11d3-9a0c-0305e82c3301\"\n");
        let zip = package(&config).unwrap();
        let text = String::from_utf8_lossy(&zip);
        for name in ["manifest.json", "color.png", "outline.png"] {
            assert!(text.contains(name), "{name}");
        }
        assert_eq!(&zip[..4], b"PK\x03\x04");
    }
}
