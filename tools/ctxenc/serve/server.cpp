// serve/server.cpp — the routes of `ctxenc serve` and their handlers, the
// error mapping (exit-code class -> HTTP status, JSON body), one log line and
// one metrics record per request, and a graceful stop.
#include "serve/server.h"

#include <httplib.h>

#include <chrono>
#include <future>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/inpaint.h"
#include "serve/job_queue.h"
#include "serve/metrics.h"
#include "serve/model_registry.h"
#include "serve/request.h"
#include "serve/web_assets.h"

namespace ctxenc::serve {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The request's own duration, carried to the logger in a standard header.
void set_timing(httplib::Response& res, Clock::time_point t0) {
  std::ostringstream s;
  s << "total;dur=" << std::fixed << std::setprecision(3) << 1000.0 * seconds_since(t0);
  res.set_header("Server-Timing", s.str());
}

double timing_of(const httplib::Response& res) {
  const std::string t = res.get_header_value("Server-Timing");
  const auto at = t.find("dur=");
  return at == std::string::npos ? 0.0 : std::atof(t.c_str() + at + 4) / 1000.0;
}

// Metrics label for a path: the known routes, else "other" (bounded label set).
std::string route_of(const std::string& path) {
  for (const char* r : {"/api/v1/models", "/api/v1/inpaint", "/healthz", "/metrics"})
    if (path == r) return r;
  return path.rfind("/api/", 0) == 0 ? "/api/other" : "/static";
}

void send_error(httplib::Response& res, const std::string& message, int code) {
  res.status = http_status_for(code);
  res.set_content(error_json(message, code), "application/json");
}

std::vector<FormField> fields_of(const httplib::Request& req) {
  std::vector<FormField> fields;
  for (const auto& [name, part] : req.files) fields.push_back({name, part.content, part.filename, part.content_type});
  for (const auto& [name, value] : req.params) fields.push_back({name, value, "", ""});
  return fields;
}

// One inpaint job's result, shared by the HTTP thread that waits and the worker.
struct JobState {
  std::promise<std::string> png;
  std::atomic<bool> abandoned{false};  // the request timed out: skip the work if not started
  InpaintReport report;
};

}  // namespace

int http_status_for(int exit_code) {
  switch (exit_code) {
    case kExitUsage: return 400;
    case kExitInput: return 422;
    case kExitModel: return 404;
    case kExitTooLarge: return 413;
    case kExitInterrupted: return 503;
    default: return 500;
  }
}

std::string error_json(const std::string& message, int exit_code) {
  return nlohmann::json{{"error", message}, {"code", exit_code}}.dump(-1, ' ', false,
                                                                      nlohmann::json::error_handler_t::replace);
}

Server::Server(const ServeOptions& opt, std::ostream* log) : opt_(opt), log_(log) {
  if (opt_.workers < 1) throw UsageError("--workers must be >= 1");
  if (opt_.queue < 0) throw UsageError("--queue must be >= 0");
  if (opt_.threads < 0) throw UsageError("--threads must be >= 0 (0 = cores / workers)");
  if (opt_.port < 0 || opt_.port > 65535) throw UsageError("--port must be in [0, 65535]");
  if (opt_.max_body_bytes < 1024) throw UsageError("--max-body must be >= 1 kB");
  if (opt_.max_pixels < 64) throw UsageError("--max-pixels must be >= 64");
  if (!(opt_.timeout_seconds > 0)) throw UsageError("--timeout must be > 0 seconds");
  registry_ = std::make_unique<ModelRegistry>(opt_.models);
  metrics_ = std::make_unique<Metrics>();
  int threads = opt_.threads;
  if (threads == 0) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::max(1, cores / opt_.workers);
    if (const char* env = std::getenv("CTXENC_THREADS"); env && std::atoi(env) > 0) threads = std::atoi(env);
  }
  queue_ = std::make_unique<JobQueue>(opt_.workers, static_cast<size_t>(opt_.queue), threads);
  http_ = std::make_unique<httplib::Server>();
  // Enough HTTP threads that a full queue is answered with 503 rather than
  // connections waiting unseen in the HTTP layer.
  const size_t http_threads = static_cast<size_t>(opt_.workers + opt_.queue + 8);
  http_->new_task_queue = [http_threads] { return new httplib::ThreadPool(http_threads); };
  install_routes(*http_);
}

Server::~Server() {
  stop();
  queue_->shutdown();
}

int Server::bind() {
  const int port = opt_.port == 0 ? http_->bind_to_any_port(opt_.host)
                                  : (http_->bind_to_port(opt_.host, opt_.port) ? opt_.port : -1);
  if (port < 0)
    throw OutputError("cannot listen on " + opt_.host + ":" + std::to_string(opt_.port) +
                      " (address in use, or not an address of this machine)");
  return port;
}

void Server::run() {
  http_->listen_after_bind();  // returns after stop(), once every connection thread is done
  queue_->shutdown();          // nothing is waiting for a job any more
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  http_->stop();
}

void Server::log_line(const std::string& line) {
  if (!log_) return;
  std::lock_guard<std::mutex> lock(log_mutex_);
  *log_ << line << std::endl;
}

void Server::install_hooks(httplib::Server& http) {
  http.set_payload_max_length(opt_.max_body_bytes);
  http.set_keep_alive_timeout(5);
  http.set_keep_alive_max_count(1000);

  // Errors the HTTP layer answers itself (413 body, 400 malformed, 404 route)
  // get the same JSON body as the handlers' own.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                       httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // a handler's own error
    std::string msg;
    int code = kExitUsage;
    if (res.status == 413) {
      msg = "request body above the limit of " + std::to_string(opt_.max_body_bytes) + " bytes (--max-body)";
      code = kExitTooLarge;
    } else if (res.status == 404) {
      msg = "no route " + req.method + " " + req.path + " (see docs/api.md)";
    } else if (res.status == 400) {
      msg = "malformed request: the headers or the multipart body could not be parsed";
    } else {
      msg = "HTTP error " + std::to_string(res.status);
      code = res.status >= 500 ? kExitInternal : kExitUsage;
    }
    res.set_content(error_json(msg, code), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const Error& e) {
      send_error(res, e.what(), e.code());
    } catch (const std::exception& e) {
      send_error(res, std::string("internal error: ") + e.what(), kExitInternal);
    } catch (...) {
      send_error(res, "internal error", kExitInternal);
    }
  });
  // One line and one metrics record per answered request.
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double s = timing_of(res);
    metrics_->record(route_of(req.path), res.status, s);
    std::ostringstream line;
    line << "ctxenc serve: " << req.method << " " << req.path << " " << res.status << " " << std::fixed
         << std::setprecision(1) << 1000.0 * s << " ms";
    if (res.status >= 400 && res.get_header_value("Content-Type") == "application/json") {
      const auto j = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("error")) line << ": " << j["error"].get<std::string>();
    }
    log_line(line.str());
  });
}

void Server::install_routes(httplib::Server& http) {
  install_hooks(http);
  http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(nlohmann::json{{"status", stopping_ ? "stopping" : "ok"}}.dump(), "application/json");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_->prometheus(queue_->waiting(), queue_->running(), queue_->capacity(), queue_->workers()),
                    "text/plain; version=0.0.4");
  });
  http.Get("/api/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_->to_json().dump(), "application/json");
  });

  http.Post("/api/v1/inpaint",
            [this](const httplib::Request& req, httplib::Response& res) { handle_inpaint(req, res); });
  http.Get(R"(/(.*))", serve_page_file);
}

void Server::handle_inpaint(const httplib::Request& req, httplib::Response& res) {
  const auto t0 = Clock::now();
  try {
    if (stopping_) throw InterruptedError("the server is shutting down");
    if (!req.is_multipart_form_data() && !req.body.empty())
      throw UsageError("POST /api/v1/inpaint takes multipart/form-data (fields image, mask, model)");
    RequestLimits limits;
    limits.max_pixels = opt_.max_pixels;
    auto parsed = std::make_shared<InpaintRequest>(parse_inpaint_request(fields_of(req), limits));
    std::shared_ptr<const Inpainter> inpainter = registry_->get(parsed->model, parsed->options.precision);
    auto state = std::make_shared<JobState>();
    std::future<std::string> png = state->png.get_future();
    uint64_t ticket = 0;
    const bool queued = queue_->try_submit([state, parsed, inpainter] {
      if (state->abandoned) return;
      try {
        const cv::Mat mask = parsed->mask_spec.kind == MaskSpec::Kind::Center
                                 ? inpainter->photo_center_hole(parsed->image.cols, parsed->image.rows)
                                 : parsed->mask;
        const cv::Mat result = inpainter->inpaint(parsed->image, mask, parsed->options, &state->report);
        state->png.set_value(encode_png(result));
      } catch (...) {
        state->png.set_exception(std::current_exception());
      }
    }, &ticket);
    if (!queued) {
      res.set_header("Retry-After", std::to_string(opt_.retry_after_seconds));
      res.status = 503;
      res.set_content(error_json(stopping_ ? "the server is shutting down"
                                           : "busy: " + std::to_string(queue_->capacity()) +
                                                 " requests are already waiting; retry later",
                                 kExitInternal),
                      "application/json");
      set_timing(res, t0);
      return;
    }
    const auto budget = std::chrono::duration<double>(opt_.timeout_seconds) - (Clock::now() - t0);
    if (png.wait_for(budget) != std::future_status::ready) {
      state->abandoned = true;
      queue_->cancel(ticket);  // not started: its place in the queue is free at once
      res.status = 504;
      res.set_content(error_json("the request took longer than the limit of " +
                                     std::to_string(static_cast<int>(opt_.timeout_seconds)) + " s (--timeout)",
                                 kExitInternal),
                      "application/json");
      set_timing(res, t0);
      return;
    }
    const std::string bytes = png.get();  // rethrows the worker's error
    res.set_header("X-Ctxenc-Holes", std::to_string(state->report.holes));
    res.set_header("X-Ctxenc-Windows", std::to_string(state->report.windows));
    if (parsed->mask_resized) res.set_header("X-Ctxenc-Warning", "mask resized (nearest neighbour) to the image size");
    res.set_content(bytes, "image/png");
  } catch (const Error& e) {
    send_error(res, e.what(), e.code());
  } catch (const std::exception& e) {
    send_error(res, std::string("internal error: ") + e.what(), kExitInternal);
  }
  set_timing(res, t0);
}

// The web page: embedded files only, by exact name; nothing on disk is read.
void Server::serve_page_file(const httplib::Request& req, httplib::Response& res) {
  std::string name = req.matches[1];
  if (name.empty()) name = "index.html";
  if (name.rfind("api/", 0) == 0) {
    res.status = 404;
    res.set_content(error_json("no route GET " + req.path + " (see docs/api.md)", kExitUsage), "application/json");
    return;
  }
  if (name.find("..") != std::string::npos || name.find('\\') != std::string::npos ||
      name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    send_error(res, "path refused: '" + req.path + "' is not a file of the web page", kExitUsage);
    return;
  }
  const WebAsset* a = find_web_asset(name);
  if (!a) {
    res.status = 404;
    res.set_content(error_json("no file '" + name + "' (see docs/api.md)", kExitUsage), "application/json");
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->content_type);
}

}  // namespace ctxenc::serve
