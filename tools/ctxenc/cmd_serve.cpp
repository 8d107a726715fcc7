// cmd_serve.cpp — `ctxenc serve`: flags -> ServeOptions, a signal watcher for
// a graceful stop (SIGINT/SIGTERM: stop accepting, finish in-flight requests),
// and the server (tools/ctxenc/serve/).
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.h"
#include "ctxenc/errors.h"
#include "options.h"
#include "serve/model_registry.h"
#include "serve/server.h"

namespace ctxenc::cli {
namespace {

struct ServeCliOptions {
  serve::ServeOptions serve;
  double max_body_mb = 50;  // --max-body, in MB
};

void run_serve(ServeCliOptions o) {
  if (!(o.max_body_mb > 0 && o.max_body_mb < 1e6)) throw UsageError("--max-body must be in (0, 1e6) MB");
  o.serve.max_body_bytes = static_cast<size_t>(o.max_body_mb * 1024 * 1024);
  // Signals go to one watcher thread only: block them here, before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  serve::Server server(o.serve, &std::cerr);
  const int port = server.bind();
  if (o.serve.host != "127.0.0.1" && o.serve.host != "localhost" && o.serve.host != "::1")
    std::cerr << "ctxenc serve: warning: listening on " << o.serve.host
              << ", not loopback: anyone who can reach this machine can use the server (there is no "
                 "authentication)\n";
  std::cerr << "ctxenc serve: " << server.registry().models().size() << " model(s) from " << o.serve.models;
  for (const auto& m : server.registry().models()) std::cerr << (&m == &server.registry().models()[0] ? ": " : ", ") << m.name;
  std::cerr << "\nctxenc serve: listening on http://" << o.serve.host << ":" << port << "/  (Ctrl-C stops)"
            << std::endl;

  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (sig == SIGINT || sig == SIGTERM) {
      std::cerr << "ctxenc serve: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
                << ": stopping; in-flight requests finish first" << std::endl;
      server.stop();
    }
  });
  server.run();
  pthread_kill(watcher.native_handle(), SIGTERM);  // wakes the watcher if run() ended otherwise
  watcher.join();
  std::cerr << "ctxenc serve: stopped" << std::endl;
}

}  // namespace

void setup_serve(CLI::App& app) {
  auto opt = std::make_shared<ServeCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "serve",
      "Serve the web page (/) and the HTTP API (/api/v1/...) for inpainting with the models of a folder.\n"
      "  ctxenc serve --models models/            then open http://127.0.0.1:8080/\n"
      "  curl -F image=@photo.jpg -F mask=@mask.png -F model=center http://127.0.0.1:8080/api/v1/inpaint -o out.png\n"
      "Routes and errors: docs/api.md; limits and load figures: docs/server.md.");
  auto& s = opt->serve;
  add_field(sub, "--models", s.models, "Folder of *.ctxm model files (a model's name is its file stem)");
  add_field(sub, "--host", s.host, "Address to listen on (0.0.0.0: every interface, with a warning)");
  add_field(sub, "--port", s.port, "Port (0 = any free port)");
  add_field(sub, "--workers", s.workers, "Inference workers (requests computed at once)");
  add_field(sub, "--queue", s.queue, "Inpaint requests that may wait for a worker; beyond, 503 + Retry-After");
  add_field(sub, "--threads", s.threads, "Compute threads per worker (0 = cores / workers)");
  add_field(sub, "--max-body", opt->max_body_mb, "Largest request body in MB (beyond: 413)");
  add_field(sub, "--max-pixels", s.max_pixels, "Refuse larger images (413), checked from the header before decoding");
  add_field(sub, "--timeout", s.timeout_seconds, "Seconds an inpaint request may take, queue included (beyond: 504)");
  sub->callback([opt] { run_serve(*opt); });
}

}  // namespace ctxenc::cli
