// serve/server.h — `ctxenc serve`: the HTTP API (/api/v1/models,
// /api/v1/inpaint, /healthz, /metrics) and the web page, over cpp-httplib.
// Requests are parsed and checked on the HTTP threads (request.h); model work
// goes through a bounded JobQueue to a fixed number of workers sharing the
// models of a ModelRegistry. docs/api.md documents the routes, docs/server.md
// the limits and the load run.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>

#include "ctxenc/image_io.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}

namespace ctxenc::serve {

class JobQueue;
class Metrics;
class ModelRegistry;

struct ServeOptions {
  std::string models = "models";            // folder of *.ctxm model files (names are the file stems)
  std::string host = "127.0.0.1";           // address to bind; loopback unless asked otherwise
  int port = 8080;                          // 0 = any free port (Server::bind returns it)
  int workers = 1;                          // inference workers (each runs one request at a time)
  int queue = 16;                           // inpaint requests that may wait for a worker; more get 503
  int threads = 0;                          // compute threads per worker; 0 = cores / workers
  size_t max_body_bytes = 50u << 20;        // a request body above this gets 413
  int64_t max_pixels = kDefaultMaxPixels;   // an image or mask declaring more pixels gets 413
  double timeout_seconds = 120;             // an inpaint request waiting longer gets 504
  int retry_after_seconds = 2;              // the Retry-After of a 503
};

// {"error": message, "code": exit-code class} and the HTTP status of each class.
int http_status_for(int exit_code);
std::string error_json(const std::string& message, int exit_code);

class Server {
 public:
  // Loads every model of opt.models (throws ModelFileError / InputError /
  // UsageError); `log` receives one line per request (nullptr: none).
  Server(const ServeOptions& opt, std::ostream* log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port; returns the port. Throws OutputError if it cannot.
  int bind();
  // Serves until stop(); returns when the last in-flight request is answered.
  void run();
  // From any thread (a signal watcher): stops accepting, lets in-flight requests finish.
  void stop();

  // The routes and handlers, on any httplib::Server (the fuzz harness's).
  void install_routes(httplib::Server& http);
  const ModelRegistry& registry() const { return *registry_; }

 private:
  void install_hooks(httplib::Server& http);  // limits, JSON errors, the log line and metrics
  void handle_inpaint(const httplib::Request& req, httplib::Response& res);
  static void serve_page_file(const httplib::Request& req, httplib::Response& res);
  void log_line(const std::string& line);

  ServeOptions opt_;
  std::ostream* log_;
  std::mutex log_mutex_;
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<JobQueue> queue_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> stopping_{false};
};

}  // namespace ctxenc::serve
