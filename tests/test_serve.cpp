// test_serve.cpp — `ctxenc serve` over real HTTP on an ephemeral loopback
// port, in process, with tiny models: every route, every error class (status
// and JSON code), 503 on a full queue, 504 past the timeout, path traversal,
// parallel requests that each get their own result, and a graceful stop.
#include <httplib.h>

#include <future>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "ctxenc/errors.h"
#include "serve/server.h"
#include "test_util.h"

namespace ctxenc::serve {
namespace {

// A server on a free port with the two tiny models, serving until destroyed.
struct LiveServer {
  test::TempDir dir;
  std::unique_ptr<Server> server;
  std::thread thread;
  int port = 0;
  std::ostringstream log;

  explicit LiveServer(ServeOptions opt = {}) {
    test::write_tiny_model(dir, OutputRegion::Full);    // tiny_full.ctxm
    test::write_tiny_model(dir, OutputRegion::Center);  // tiny_center.ctxm
    opt.models = dir.path.string();
    opt.port = 0;
    server = std::make_unique<Server>(opt, &log);
    port = server->bind();
    thread = std::thread([this] { server->run(); });
  }
  ~LiveServer() { stop(); }
  // Stops (in-flight requests finish) and returns the log, complete.
  std::string stop() {
    if (thread.joinable()) {
      server->stop();
      thread.join();
    }
    return log.str();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    c.set_write_timeout(60, 0);
    return c;
  }
};

std::string png(const cv::Mat& m) { return encode_png(m); }
cv::Mat decode_rgb(const std::string& bytes) { return decode_image_rgb(bytes, "response"); }

cv::Mat hole(int w, int h, const cv::Rect& r) {
  cv::Mat m = cv::Mat::zeros(h, w, CV_8UC1);
  m(r).setTo(255);
  return m;
}

httplib::MultipartFormDataItems form(const cv::Mat& image, const cv::Mat& mask, const std::string& model) {
  return {{"image", png(image), "photo.png", "image/png"},
          {"mask", png(mask), "mask.png", "image/png"},
          {"model", model, "", ""}};
}

// The status and JSON of an error response, checked to be the documented shape.
void expect_json_error(const httplib::Result& r, int status, int code, const std::string& needle) {
  ASSERT_TRUE(r) << "no response: " << httplib::to_string(r.error());
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const auto j = nlohmann::json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r->body;
  EXPECT_EQ(j.value("code", -1), code) << r->body;
  EXPECT_NE(j.value("error", std::string()).find(needle), std::string::npos) << r->body;
}

TEST(Serve, ModelsHealthAndMetrics) {
  LiveServer s;
  auto c = s.client();
  auto models = c.Get("/api/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200);
  const auto j = nlohmann::json::parse(models->body);
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][0]["name"], "tiny_center");
  EXPECT_EQ(j["models"][0]["kind"], "center");
  EXPECT_EQ(j["models"][1]["name"], "tiny_full");
  EXPECT_EQ(j["models"][1]["kind"], "region");
  EXPECT_EQ(j["models"][1]["input_size"], 32);
  EXPECT_EQ(j["models"][1]["step"], 0);
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(nlohmann::json::parse(health->body)["status"], "ok");
  // A request is counted once its answer is written: poll for the count.
  std::string metrics;
  const std::string counted = "ctxenc_http_requests_total{route=\"/api/v1/models\",status=\"200\"} 1";
  const std::string timed = "ctxenc_http_request_duration_seconds_count{route=\"/healthz\"} 1";
  auto complete = [&] { return metrics.find(counted) != std::string::npos && metrics.find(timed) != std::string::npos; };
  for (int i = 0; i < 100 && !complete(); ++i) {
    auto r = c.Get("/metrics");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    metrics = r->body;
    if (!complete()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(metrics.find(counted), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ctxenc_queue_waiting 0"), std::string::npos);
  EXPECT_NE(metrics.find(timed), std::string::npos) << metrics;
  // One log line per request.
  const std::string log = s.stop();
  EXPECT_GE(test::count_lines(log), 3) << log;
  EXPECT_NE(log.find("GET /healthz 200"), std::string::npos) << log;
}

TEST(Serve, InpaintKeepsKnownPixelsAndFillsTheHole) {
  LiveServer s;
  auto c = s.client();
  const cv::Mat img = test::photo(80, 60), mask = hole(80, 60, {20, 15, 24, 18});
  for (const char* model : {"tiny_full", "tiny_center"}) {
    auto r = c.Post("/api/v1/inpaint", form(img, mask, model));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "image/png");
    const cv::Mat out = decode_rgb(r->body);
    ASSERT_EQ(out.size(), img.size());
    cv::Mat diff;
    cv::absdiff(out, img, diff);
    cv::Mat changed;
    cv::cvtColor(diff, changed, cv::COLOR_RGB2GRAY);
    EXPECT_EQ(cv::countNonZero(changed & ~mask), 0) << model << ": a known pixel changed";
    EXPECT_GT(cv::countNonZero(changed & mask), 24 * 18 / 2) << model << ": the hole was not filled";
  }
  // Options and a text mask in the query string; the center model's own hole.
  auto r = c.Post("/api/v1/inpaint?strategy=resize&blend=none",
                  httplib::MultipartFormDataItems{{"image", png(img), "p.png", "image/png"},
                                                  {"mask", "center", "", ""},
                                                  {"model", "tiny_center", "", ""}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("X-Ctxenc-Holes"), "1");
}

TEST(Serve, EachErrorClassHasItsStatusAndCode) {
  ServeOptions opt;
  opt.max_body_bytes = 256 * 1024;
  opt.max_pixels = 200 * 200;
  LiveServer s(opt);
  auto c = s.client();
  const cv::Mat img = test::photo(64, 48), mask = hole(64, 48, {8, 8, 10, 10});

  auto items = form(img, mask, "tiny_full");
  items[0].content = "GIF89a not a photo";
  expect_json_error(c.Post("/api/v1/inpaint", items), 422, kExitInput, "not an image");

  expect_json_error(c.Post("/api/v1/inpaint", form(img, hole(48, 48, {8, 8, 10, 10}), "tiny_full")), 422, kExitInput,
                    "mask");
  expect_json_error(c.Post("/api/v1/inpaint", form(test::photo(300, 200), hole(300, 200, {8, 8, 9, 9}), "tiny_full")),
                    413, kExitTooLarge, "above the limit");
  items = form(img, mask, "tiny_full");
  items[0].content = test::slurp(test::source_path("tests/fuzz/corpus/fuzz_image/bomb.png"));  // 60000x60000 header
  expect_json_error(c.Post("/api/v1/inpaint", items), 413, kExitTooLarge, "above the limit");

  items = form(img, mask, "tiny_full");
  items[0].content = std::string(300 * 1024, 'x');  // body above --max-body
  expect_json_error(c.Post("/api/v1/inpaint", items), 413, kExitTooLarge, "body above the limit");

  expect_json_error(c.Post("/api/v1/inpaint", form(img, mask, "no_such_model")), 404, kExitModel, "unknown model");
  expect_json_error(c.Post("/api/v1/inpaint", form(img, mask, "../tiny_full")), 400, kExitUsage, "not a path");

  // A multipart body whose boundary never appears, and one cut short.
  expect_json_error(c.Post("/api/v1/inpaint", "garbage without parts", "multipart/form-data; boundary=XyZ"), 400,
                    kExitUsage, "malformed");
  expect_json_error(c.Post("/api/v1/inpaint",
                           "--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ntiny_full\r\n--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n\x89PNG",
                           "multipart/form-data; boundary=XyZ"),
                    400, kExitUsage, "malformed");
  expect_json_error(c.Post("/api/v1/inpaint", "{\"image\": 1}", "application/json"), 400, kExitUsage,
                    "multipart/form-data");
  expect_json_error(c.Post("/api/v1/inpaint?strategy=sideways", form(img, mask, "tiny_full")), 400, kExitUsage,
                    "strategy");
  expect_json_error(c.Get("/api/v1/nothing"), 404, kExitUsage, "no route");

  // One log line per request, each error with its message.
  const std::string log = s.stop();
  EXPECT_EQ(test::count_lines(log), 12) << log;
  EXPECT_NE(log.find("POST /api/v1/inpaint 404"), std::string::npos) << log;
  EXPECT_NE(log.find("unknown model 'no_such_model'"), std::string::npos) << log;
}

TEST(Serve, StaticFilesAndPathTraversal) {
  LiveServer s;
  auto c = s.client();
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(page->body.find("app.js"), std::string::npos);
  auto js = c.Get("/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  for (const char* evil : {"/../../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
                           "/static/../../etc/passwd", "/..\\..\\etc\\passwd", "/.%2e/.%2e/etc/passwd"}) {
    auto r = c.Get(evil);
    ASSERT_TRUE(r) << evil;
    EXPECT_TRUE(r->status == 400 || r->status == 404) << evil << " -> " << r->status;
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << evil;
  }
  auto r = c.Get("/..%2f..%2f..%2fetc%2fpasswd");
  expect_json_error(r, 400, kExitUsage, "path refused");
}

TEST(Serve, ParallelRequestsEachGetTheirOwnResult) {
  ServeOptions opt;
  opt.workers = 2;
  opt.queue = 16;
  LiveServer s(opt);
  constexpr int kN = 8;
  std::vector<cv::Mat> images;
  for (int i = 0; i < kN; ++i) {
    cv::Mat img = test::photo(96, 72);
    cv::flip(img, img, i % 2);                                  // each image differs
    img += cv::Scalar(10 * i, 255 - 20 * i, 7 * i);
    images.push_back(img);
  }
  const cv::Mat mask = hole(96, 72, {30, 20, 30, 24});
  // One at a time first: what each image must get.
  std::vector<std::string> expected;
  {
    auto c = s.client();
    for (const cv::Mat& img : images) {
      auto r = c.Post("/api/v1/inpaint", form(img, mask, "tiny_full"));
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      expected.push_back(r->body);
    }
  }
  for (int i = 1; i < kN; ++i) EXPECT_NE(expected[i], expected[0]);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::future<std::string>> got;
    for (int i = 0; i < kN; ++i)
      got.push_back(std::async(std::launch::async, [&, i] {
        auto c = s.client();
        auto r = c.Post("/api/v1/inpaint", form(images[i], mask, "tiny_full"));
        if (!r) return "no response: " + httplib::to_string(r.error());
        return r->status == 200 ? r->body : "HTTP " + std::to_string(r->status) + ": " + r->body;
      }));
    for (int i = 0; i < kN; ++i) {
      const std::string body = got[i].get();
      double diff = -1;
      int ndiff = -1;
      if (body.size() > 300) {
        cv::Mat a = decode_rgb(body), b = decode_rgb(expected[i]), d;
        diff = cv::norm(a, b, cv::NORM_INF);
        cv::absdiff(a, b, d);
        ndiff = cv::countNonZero(d.reshape(1));
      }
      EXPECT_TRUE(body == expected[i]) << "request " << i << " round " << round << ": "
                                       << (body.size() < 300 ? body : "another image") << " max diff " << diff
                                       << " in " << ndiff << " values";
    }
  }
}

TEST(Serve, FullQueueAnswers503WithRetryAfter) {
  ServeOptions opt;
  opt.workers = 1;
  opt.queue = 0;  // only the running request; every other one is refused
  LiveServer s(opt);
  const cv::Mat img = test::photo(512, 384), mask = hole(512, 384, {40, 40, 400, 300});
  auto items = form(img, mask, "tiny_full");
  constexpr int kN = 12;
  std::vector<std::future<std::pair<int, std::string>>> got;
  for (int i = 0; i < kN; ++i)
    got.push_back(std::async(std::launch::async, [&] {
      auto c = s.client();
      auto r = c.Post("/api/v1/inpaint?strategy=full&flip_average=1", items);
      if (!r) return std::make_pair(-1, std::string());
      return std::make_pair(r->status, r->get_header_value("Retry-After") + "|" + r->body);
    }));
  int ok = 0, busy = 0;
  for (auto& f : got) {
    const auto [status, rest] = f.get();
    if (status == 200) ++ok;
    if (status == 503) {
      ++busy;
      EXPECT_EQ(rest.substr(0, 2), "2|") << rest;
      EXPECT_NE(rest.find("\"code\":1"), std::string::npos) << rest;
    }
    EXPECT_TRUE(status == 200 || status == 503) << status;
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
}

TEST(Serve, RequestPastTheTimeoutAnswers504) {
  ServeOptions opt;
  opt.timeout_seconds = 1e-6;
  LiveServer s(opt);
  auto c = s.client();
  // A job of seconds, so that it cannot be done before the handler first looks.
  const cv::Mat img = test::photo(640, 480);
  expect_json_error(c.Post("/api/v1/inpaint?strategy=full&flip_average=1",
                           form(img, hole(640, 480, {40, 40, 500, 380}), "tiny_full")),
                    504, kExitInternal, "--timeout");
}

TEST(Serve, StopLetsTheInFlightRequestFinish) {
  auto s = std::make_unique<LiveServer>();
  const cv::Mat img = test::photo(640, 480), mask = hole(640, 480, {40, 40, 500, 380});
  auto items = form(img, mask, "tiny_full");
  auto pending = std::async(std::launch::async, [&] {
    auto c = s->client();
    auto r = c.Post("/api/v1/inpaint?strategy=full&flip_average=1", items);
    return r ? r->status : -1;
  });
  // Wait until the job runs, then stop.
  auto c = s->client();
  bool running = false;
  for (int i = 0; i < 2000 && !running; ++i) {
    auto m = c.Get("/metrics");
    running = m && m->body.find("ctxenc_queue_running 1") != std::string::npos;
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(running) << "the request never ran";
  s->server->stop();
  EXPECT_EQ(pending.get(), 200);
  auto after = c.Get("/healthz");
  EXPECT_FALSE(after) << "still accepting after stop";
  s.reset();
}

// The real binary, stopped by `signal` after `seconds`: its exit code and stderr.
test::CliRun serve_for(const std::string& args, const char* signal, int seconds) {
  test::TempDir t;
  const std::string cmd = "timeout --preserve-status -s " + std::string(signal) + " " + std::to_string(seconds) +
                          " " + CTXENC_CLI_PATH + " serve " + args + " >" + (t / "out") + " 2>" + (t / "err");
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::slurp(t / "out"), test::slurp(t / "err")};
}

TEST(Serve, CommandWarnsOffLoopbackAndStopsOnSignals) {
  test::TempDir d;
  test::write_tiny_model(d, OutputRegion::Full);
  const test::CliRun any = serve_for("--host 0.0.0.0 --port 0 --models " + d.path.string(), "TERM", 5);
  EXPECT_EQ(any.code, 0) << any.err;
  EXPECT_NE(any.err.find("warning: listening on 0.0.0.0, not loopback"), std::string::npos) << any.err;
  EXPECT_NE(any.err.find("1 model(s)"), std::string::npos) << any.err;
  EXPECT_NE(any.err.find("SIGTERM: stopping"), std::string::npos) << any.err;
  EXPECT_NE(any.err.find("ctxenc serve: stopped"), std::string::npos) << any.err;
  const test::CliRun loopback = serve_for("--port 0 --models " + d.path.string(), "INT", 4);
  EXPECT_EQ(loopback.code, 0) << loopback.err;
  EXPECT_EQ(loopback.err.find("warning"), std::string::npos) << loopback.err;
  EXPECT_NE(loopback.err.find("listening on http://127.0.0.1:"), std::string::npos) << loopback.err;
  EXPECT_NE(loopback.err.find("SIGINT: stopping"), std::string::npos) << loopback.err;
}

TEST(Serve, RefusesBadOptionsAtStart) {
  test::TempDir d;
  ServeOptions opt;
  opt.models = d / "missing";
  EXPECT_THROW(Server(opt, nullptr), InputError);
  opt.models = d.path.string();
  opt.workers = 0;
  EXPECT_THROW(Server(opt, nullptr), UsageError);
}

}  // namespace
}  // namespace ctxenc::serve
