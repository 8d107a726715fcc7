// test_serve_request.cpp — the server's request parsing without a socket:
// form fields -> InpaintRequest or the error class of each bad request, the
// in-memory image and mask decoders (RGBA alpha masks), the job queue bound.
#include <atomic>
#include <condition_variable>
#include <mutex>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ctxenc/errors.h"
#include "serve/job_queue.h"
#include "serve/request.h"
#include "test_util.h"

namespace ctxenc::serve {
namespace {

std::string png_of(const cv::Mat& m) { return encode_png(m); }

cv::Mat rect_hole(int w, int h, const cv::Rect& r) {
  cv::Mat m = cv::Mat::zeros(h, w, CV_8UC1);
  m(r).setTo(255);
  return m;
}

std::vector<FormField> basic_fields(const cv::Mat& image, const std::string& mask_png) {
  return {{"image", png_of(image), "photo.png", "image/png"},
          {"mask", mask_png, "mask.png", "image/png"},
          {"model", "center", "", ""}};
}

template <typename E>
void expect_error(const std::vector<FormField>& f, const std::string& needle, const RequestLimits& l = {}) {
  try {
    parse_inpaint_request(f, l);
    ADD_FAILURE() << "no error; expected one naming '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong error class: " << e.what();
  }
}

TEST(ServeRequest, ParsesImageMaskModelAndOptions) {
  const cv::Mat img = test::photo(64, 48);
  auto f = basic_fields(img, png_of(rect_hole(64, 48, {10, 10, 20, 12})));
  f.push_back({"strategy", "full", "", ""});
  f.push_back({"blend", "poisson", "", ""});
  f.push_back({"context", "2.5", "", ""});
  f.push_back({"flip_average", "true", "", ""});
  const InpaintRequest r = parse_inpaint_request(f, {});
  EXPECT_EQ(r.model, "center");
  EXPECT_EQ(r.options.strategy, InpaintStrategy::Full);
  EXPECT_EQ(r.options.blend, Blend::Poisson);
  EXPECT_DOUBLE_EQ(r.options.context, 2.5);
  EXPECT_TRUE(r.options.flip_average);
  ASSERT_EQ(r.image.size(), cv::Size(64, 48));
  EXPECT_EQ(cv::norm(r.image, img, cv::NORM_INF), 0);  // the upload decoded bit for bit
  EXPECT_EQ(cv::countNonZero(r.mask), 20 * 12);
  EXPECT_FALSE(r.mask_resized);
}

TEST(ServeRequest, RgbaMaskAlphaMarksTheHole) {
  const cv::Mat img = test::photo(40, 30);
  // A canvas export: black, transparent where known, opaque where painted.
  cv::Mat rgba(30, 40, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  rgba(cv::Rect(5, 6, 7, 8)).setTo(cv::Scalar(0, 0, 0, 255));
  std::vector<uchar> buf;
  cv::imencode(".png", rgba, buf);
  const InpaintRequest r = parse_inpaint_request(basic_fields(img, std::string(buf.begin(), buf.end())), {});
  EXPECT_EQ(cv::countNonZero(r.mask), 7 * 8);
  EXPECT_EQ(cv::countNonZero(r.mask(cv::Rect(5, 6, 7, 8))), 7 * 8);
  // A fully opaque RGBA mask is read by its grey values, as a file mask is.
  cv::Mat opaque(30, 40, CV_8UC4, cv::Scalar(0, 0, 0, 255));
  opaque(cv::Rect(1, 2, 3, 4)).setTo(cv::Scalar(255, 255, 255, 255));
  cv::imencode(".png", opaque, buf);
  EXPECT_EQ(cv::countNonZero(parse_inpaint_request(basic_fields(img, std::string(buf.begin(), buf.end())), {}).mask),
            12);
}

TEST(ServeRequest, TextMasksCenterAndRect) {
  const cv::Mat img = test::photo(64, 48);
  auto f = basic_fields(img, "center");
  f[1].filename = f[1].content_type = "";
  EXPECT_EQ(parse_inpaint_request(f, {}).mask_spec.kind, MaskSpec::Kind::Center);
  f[1].content = "rect:60,40,10,10";  // clipped to the image
  EXPECT_EQ(cv::countNonZero(parse_inpaint_request(f, {}).mask), 4 * 8);
  f[1].content = "/etc/passwd";  // a server never opens a path it is sent
  expect_error<UsageError>(f, "not read");
}

TEST(ServeRequest, EachBadRequestGetsItsErrorClass) {
  const cv::Mat img = test::photo(64, 48);
  const std::string mask = png_of(rect_hole(64, 48, {1, 1, 5, 5}));
  auto f = basic_fields(img, mask);
  f[0].content = "this is not an image";
  expect_error<InputError>(f, "not an image");
  f = basic_fields(img, png_of(rect_hole(48, 48, {1, 1, 5, 5})));  // another aspect ratio
  expect_error<InputError>(f, "mask");
  f = basic_fields(img, mask);
  RequestLimits small;
  small.max_pixels = 1000;
  expect_error<TooLargeError>(f, "above the limit", small);
  f = basic_fields(img, mask);
  f[0].content = test::slurp(test::source_path("tests/fuzz/corpus/fuzz_image/bomb.png"));  // declares 60000x60000
  expect_error<TooLargeError>(f, "above the limit");
  f = basic_fields(img, mask);
  f[2].content = "../models/center";
  expect_error<UsageError>(f, "not a path");
  f = basic_fields(img, mask);
  f.push_back({"strategy", "sideways", "", ""});
  expect_error<UsageError>(f, "strategy");
  f = basic_fields(img, mask);
  f.push_back({"context", "1.0", "", ""});
  expect_error<UsageError>(f, "context");
  f = basic_fields(img, mask);
  f.push_back({"context", "2x", "", ""});
  expect_error<UsageError>(f, "number");
  f = basic_fields(img, mask);
  f.push_back({"colour", "red", "", ""});
  expect_error<UsageError>(f, "unknown field");
  f = basic_fields(img, mask);
  f.push_back(f[2]);
  expect_error<UsageError>(f, "twice");
  f = basic_fields(img, mask);
  f.erase(f.begin());
  expect_error<UsageError>(f, "'image'");
  f = basic_fields(img, mask);
  f.erase(f.begin() + 1);
  expect_error<UsageError>(f, "'mask'");
}

TEST(ServeRequest, EncodingLeavesTheImageAlone) {
  // Found by the parallel-requests test: the RGB->BGR conversion once wrote into the caller's pixels.
  const cv::Mat img = test::photo(16, 12), copy = img.clone();
  const std::string bytes = encode_png(img);
  EXPECT_EQ(cv::norm(img, copy, cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(decode_image_rgb(bytes, "png"), copy, cv::NORM_INF), 0);
  test::TempDir d;
  save_image(d / "a.png", img);
  EXPECT_EQ(cv::norm(img, copy, cv::NORM_INF), 0);
}

TEST(ServeRequest, SafeModelNames) {
  EXPECT_TRUE(is_safe_model_name("center"));
  EXPECT_TRUE(is_safe_model_name("region-v2.1_a"));
  for (const char* bad : {"", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a b", "x\n"})
    EXPECT_FALSE(is_safe_model_name(bad)) << bad;
}

TEST(ServeJobQueue, RefusesBeyondItsCapacityAndRunsEveryTakenJob) {
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> done{0};
  {
    JobQueue q(/*workers=*/1, /*capacity=*/2, /*threads_per_worker=*/1);
    auto blocker = [&] {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return release; });
      ++done;
    };
    ASSERT_TRUE(q.try_submit(blocker));
    while (q.running() == 0) std::this_thread::yield();  // the worker holds the first job
    EXPECT_TRUE(q.try_submit([&] { ++done; }));
    EXPECT_TRUE(q.try_submit([&] { ++done; }));
    EXPECT_EQ(q.waiting(), 2u);
    EXPECT_FALSE(q.try_submit([&] { ++done; }));  // full
    uint64_t ticket = 0;
    EXPECT_FALSE(q.cancel(12345));
    {  // a cancelled job frees its place and never runs
      JobQueue q2(/*workers=*/0, /*capacity=*/1, /*threads_per_worker=*/1);
      ASSERT_TRUE(q2.try_submit([&] { done += 100; }, &ticket));
      EXPECT_FALSE(q2.try_submit([&] { done += 100; }));
      EXPECT_TRUE(q2.cancel(ticket));
      EXPECT_FALSE(q2.cancel(ticket));
      EXPECT_EQ(q2.waiting(), 0u);
      EXPECT_TRUE(q2.try_submit([] {}, &ticket));
      EXPECT_TRUE(q2.cancel(ticket));
    }
    {
      std::lock_guard<std::mutex> lock(m);
      release = true;
    }
    cv.notify_all();
    q.shutdown();  // runs what was taken
    EXPECT_FALSE(q.try_submit([&] { ++done; }));
  }
  EXPECT_EQ(done.load(), 3);
}

}  // namespace
}  // namespace ctxenc::serve
