// Parses each card file (*.json) in a folder with the `adaptivecards` package and reports every
// parse event (an unknown element or action type, a bad value) and validation event (duplicate
// ids, a required input without an error message, ...). Files named *.manifest.json are Teams app
// manifests instead: they are validated against the JSON schema of their `manifestVersion`, as
// shipped in `@microsoft/app-manifest`. Exits 1 when anything has a problem, and when there was no
// card at all: a check of nothing must not pass.
//
// usage: node scripts/adaptive-cards-check.cjs PACKAGE_DIR CARD_DIR

"use strict";
const fs = require("fs");
const path = require("path");

const [packageDir, cardsDir] = process.argv.slice(2);
if (!packageDir || !cardsDir) {
  console.error("usage: node adaptive-cards-check.cjs PACKAGE_DIR CARD_DIR");
  process.exit(2);
}
// The package's `lib` is untranspiled ES modules; its `dist` bundle loads in Node as it is.
const AC = require(path.join(packageDir, "node_modules", "adaptivecards", "dist", "adaptivecards.js"));
const modules = path.join(packageDir, "node_modules");
const manifests = path.join(modules, "@microsoft", "app-manifest");
// The manifest schemas are JSON Schema draft 04; the validator is the one `@microsoft/app-manifest`
// itself uses (Ajv with its draft-04 dialect and formats).
const AjvDraft04 = require(path.join(modules, "ajv-draft-04")).default;
const addFormats = require(path.join(modules, "ajv-formats")).default;

function manifestProblemsOf(json) {
  const version = String(json.manifestVersion || "");
  const file = path.join(manifests, "build", "json-schemas", "teams", `v${version}`, "MicrosoftTeams.schema.json");
  if (!fs.existsSync(file)) {
    return [`no schema for manifestVersion ${JSON.stringify(version)}`];
  }
  // The published schemas contain a `\\a` that JavaScript regular expressions do not accept;
  // the package's own loader makes the same replacement.
  const schema = JSON.parse(fs.readFileSync(file, "utf8").replace(/\\a/g, "\\x07"));
  const ajv = new AjvDraft04({ allErrors: true, strictTypes: false });
  addFormats(ajv, ["uri", "email", "regex"]);
  const validate = ajv.compile(schema);
  if (validate(json)) {
    return [];
  }
  return validate.errors.map((e) => `manifest: ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
}

function problemsOf(json) {
  const problems = [];
  if (json.type !== "AdaptiveCard") {
    problems.push(`type is ${JSON.stringify(json.type)}, not AdaptiveCard`);
  }
  if (typeof json.version !== "string") {
    problems.push("no version");
  }
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    problems.push(`parse: ${context.getEventAt(i).message}`);
  }
  for (const event of card.validateProperties().validationEvents) {
    problems.push(`validation: ${event.message}`);
  }
  return problems;
}

let files = [];
try {
  files = fs.readdirSync(cardsDir).filter((f) => f.endsWith(".json")).sort();
} catch (error) {
  console.error(`cannot read ${cardsDir}: ${error.message}`);
  process.exit(1);
}
async function main() {
  let failed = 0;
  let cards = 0;
  for (const file of files) {
    let problems;
    try {
      const json = JSON.parse(fs.readFileSync(path.join(cardsDir, file), "utf8"));
      if (file.endsWith(".manifest.json")) {
        problems = manifestProblemsOf(json);
      } else {
        cards += 1;
        problems = problemsOf(json);
      }
    } catch (error) {
      problems = [`unreadable: ${error.message}`];
    }
    if (problems.length > 0) {
      failed += 1;
      console.error(`${file}:\n  ${problems.join("\n  ")}`);
    }
  }
  console.log(`adaptive cards and manifests: ${files.length - failed} passed, ${failed} failed`);
  if (cards === 0) {
    console.error(`no cards in ${cardsDir}: the Teams tests wrote none`);
    process.exit(1);
  }
  process.exit(failed > 0 ? 1 : 0);
}

main();
