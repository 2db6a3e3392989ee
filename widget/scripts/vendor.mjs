// Copies the built third-party files the app and the tests use out of node_modules,
// unchanged (licence headers intact). Run after `npm ci`: `npm run vendor`.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const widget = join(here, "..");
const repo = join(widget, "..");

const copies = [
  ["socket.io-client", "dist/socket.io.min.js", "bot/web/static/vendor/socket.io.min.js"],
  ["socket.io-client", "LICENSE", "bot/web/static/vendor/socket.io.LICENSE"],
  ["axe-core", "axe.min.js", "tests/browser/vendor/axe.min.js"],
  ["axe-core", "LICENSE", "tests/browser/vendor/axe.LICENSE"],
];

for (const [pkg, file, target] of copies) {
  const root = join(widget, "node_modules", pkg);
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  mkdirSync(dirname(join(repo, target)), { recursive: true });
  copyFileSync(join(root, file), join(repo, target));
  console.log(`${pkg}@${version} ${file} -> ${target}`);
}
