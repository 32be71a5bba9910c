// ESLint for assets/ (browser ES modules, plus the few classic scripts still loaded as such) and
// tests/js/ (Node's built-in test runner). `make test` runs it before the Python suite.
import js from "@eslint/js";
import globals from "globals";

// What the pages get from Dash and dash-leaflet's bundles, as globals.
const dashGlobals = { L: "readonly", dash_clientside: "writable" };

export default [
  { ignores: ["assets/vendor/**", "node_modules/**"] },
  js.configs.recommended,
  {
    files: ["assets/**/*.js"],
    languageOptions: { sourceType: "module", globals: { ...globals.browser, ...dashGlobals } },
    rules: {
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-implicit-globals": "error",
    },
  },
  {
    // Not yet modules: still classic scripts sharing window.dispatch* (issue 12 moves them).
    files: ["assets/*.js"],
    languageOptions: { sourceType: "script" },
  },
  {
    files: ["tests/js/**/*.js"],
    languageOptions: { sourceType: "module", globals: { ...globals.node } },
  },
];
