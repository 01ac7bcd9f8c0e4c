# workerd (Cloudflare's Workers runtime, from npm) serving the Worker example through the
# package's `workerd` entry, which imports the .wasm as a module. Ports are set on the command
# line: --socket-addr cookie=127.0.0.1:P --socket-addr memory=127.0.0.1:Q. Options (a JSON
# object of camelCase beego keys) come from the environment variable POLYSESSION_OPTIONS.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "cookie", worker = .cookieWorker),
    (name = "memory", worker = .memoryWorker),
  ],
  sockets = [
    (name = "cookie", address = "127.0.0.1:0", http = (), service = "cookie"),
    (name = "memory", address = "127.0.0.1:0", http = (), service = "memory"),
  ],
);

const modules :List(Workerd.Worker.Module) = [
  (name = "worker.js", esModule = embed "../../examples/worker.js"),
  (name = "polysession-wasm", esModule = embed "entry.js"),
  (name = "js/workers.js", esModule = embed "../../js/workers.js"),
  (name = "js/manager.js", esModule = embed "../../js/manager.js"),
  (name = "js/fetch.js", esModule = embed "../../js/fetch.js"),
  (name = "pkg/polysession_wasm.js", esModule = embed "../../pkg/polysession_wasm.js"),
  (name = "pkg/polysession_wasm_bg.wasm", wasm = embed "../../pkg/polysession_wasm_bg.wasm"),
];

const cookieWorker :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "SESSION_KEYS", text = "a workerd test secret of 32+ bytes!"),
    (name = "SESSION_OPTIONS", fromEnvironment = "POLYSESSION_OPTIONS"),
  ],
);

const memoryWorker :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "SESSION_PROVIDER", text = "memory"),
    (name = "SESSION_OPTIONS", fromEnvironment = "POLYSESSION_OPTIONS"),
  ],
);
