// cmd_bench.cpp — `ctxenc bench`: our training step and inference beside the
// reference PyTorch implementation, in one invocation. Every measurement runs
// in its own child process, so each gets a clean heap and its own peak RSS.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "ctxenc/benchmark.h"
#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"

namespace ctxenc::cli {
namespace {

struct BenchOptions {
  std::vector<std::string> bottlenecks{"dense", "channelwise"};
  std::vector<int> batches{1, 64};
  std::vector<std::string> precisions{"fp32", "bf16"};
  std::vector<std::string> modes{"train", "infer"};
  std::string upsampling = "transposed";  // our decoder's up-convolution (the reference's is transposed)
  int iters = BenchCase{}.iters;
  int threads = 0;
  std::string reference;  // "" = kDefaultReference if it is there, else no reference (with a note)
  std::string python = "/usr/bin/python3";
  bool no_reference = false;
  std::string json_out, markdown_out;
  std::string data;   // loader mode: dataset to read
  int loader_threads = 2;
  std::string child;  // internal: run one case and print JSON
};

// Where the reference script lies beside a checkout: the sibling shared/ folder.
constexpr const char* kDefaultReference = "../shared/bench/reference_pytorch.py";

struct ChildResult {
  nlohmann::json json;
  double peak_rss_mb = 0;
};

// Runs argv, returns its stdout parsed as the last JSON line and its peak RSS.
ChildResult run_child(const std::vector<std::string>& argv) {
  int fd[2];
  if (::pipe(fd) != 0) throw Error(kExitInternal, "pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(kExitInternal, "fork failed");
  if (pid == 0) {
    ::dup2(fd[1], STDOUT_FILENO);
    ::close(fd[0]);
    ::close(fd[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::perror("exec");
    ::_exit(127);
  }
  ::close(fd[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd[0], buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd[0]);
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(kExitInternal, "benchmark child '" + argv[0] + "' failed (status " + std::to_string(status) + ")");
  std::string last;
  std::istringstream ss(out);
  for (std::string line; std::getline(ss, line);)
    if (!line.empty() && line[0] == '{') last = line;
  if (last.empty()) throw Error(kExitInternal, "benchmark child printed no JSON: " + out.substr(0, 200));
  return {nlohmann::json::parse(last), ru.ru_maxrss / 1024.0};
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error(kExitInternal, "cannot find own executable");
  return p.string();
}

// Child mode: "train|infer:BOTTLENECK:BATCH:PRECISION[:UPSAMPLING]", "peak" or "loader".
void run_child_case(const BenchOptions& o) {
  set_threads(o.threads);  // libtorch would default to 1 thread here
  if (o.child == "loader") {
    DataConfig d;
    d.path = o.data;
    d.loader_threads = o.loader_threads;
    MaskConfig m;
    m.kind = MaskKind::RandomRegion;
    LoaderBenchResult r = bench_loader(d, m, 128, 64);
    std::cout << nlohmann::json{{"cold_images_per_s", r.cold_images_per_s}, {"warm_images_per_s", r.warm_images_per_s},
                                {"images", r.images}, {"skipped_files", r.skipped_files}}
                     .dump()
              << std::endl;
    return;
  }
  if (o.child == "peak") {
    nlohmann::json j = {{"gemm_fp32", measure_gemm_gflops(Precision::FP32)},
                        {"gemm_bf16", measure_gemm_gflops(Precision::BF16)},
                        {"conv_fp32", measure_conv_gflops(Precision::FP32)},
                        {"conv_bf16", measure_conv_gflops(Precision::BF16)},
                        {"read_gbps", measure_read_gbps()}};
    std::cout << j.dump() << std::endl;
    return;
  }
  std::vector<std::string> f;
  std::stringstream ss(o.child);
  for (std::string part; std::getline(ss, part, ':');) f.push_back(part);
  if (f.size() != 4 && f.size() != 5) throw UsageError("bad --child spec");
  BenchCase c;
  c.train = f[0] == "train";
  c.model.bottleneck = parse_bottleneck(f[1]);
  c.batch = std::stoi(f[2]);
  c.precision = parse_precision(f[3]);
  if (f.size() == 5) c.model.upsampling = parse_upsampling(f[4]);
  c.iters = o.iters;
  c.threads = o.threads;
  BenchResult r = run_bench_case(c);
  std::cout << nlohmann::json{{"seconds_per_iter", r.seconds_per_iter}, {"images_per_s", r.images_per_s},
                              {"gflop_per_image", r.gflop_per_image}, {"gflops", r.gflops}}
                   .dump()
            << std::endl;
}

// Everything one `ctxenc bench` run measured.
struct BenchRun {
  nlohmann::json peak;    // machine peaks
  nlohmann::json ref;     // the reference script's JSON; null without one
  double ref_rss = 0;     // its peak RSS, MB
  std::string reference;  // its path ("" = none)
  nlohmann::json loader;  // --mode loader's figures; null without
  nlohmann::json rows = nlohmann::json::array();  // one per case
};

using ChildArgs = std::function<std::vector<std::string>(const std::string& spec)>;

// The reference script to run, "" for none: an explicit --reference must be
// there; the default is used when it is, else a note says it is skipped.
std::string resolve_reference(const BenchOptions& o) {
  if (o.no_reference) return "";
  if (!o.reference.empty()) {
    if (!std::filesystem::exists(o.reference))
      throw InputError("reference script '" + o.reference + "' not found (--reference PATH, or --no-reference)");
    return o.reference;
  }
  if (std::filesystem::exists(kDefaultReference)) return kDefaultReference;
  std::cerr << "bench: note: no reference script at " << kDefaultReference
            << " (relative to this folder); timing ctxenc alone. Give --reference PATH to compare.\n";
  return "";
}

// The reference PyTorch run (run.reference), in run.ref.
void run_reference(const BenchOptions& o, BenchRun& run) {
  if (run.reference.empty()) return;
  std::cerr << "bench: running the reference PyTorch implementation (" << run.reference << ")...\n";
  auto r = run_child({o.python, run.reference, "--batch", "64", "--iters", std::to_string(o.iters), "--json",
                      "--threads", std::to_string(o.threads > 0 ? o.threads : int(std::thread::hardware_concurrency()))});
  run.ref = r.json;
  run.ref_rss = r.peak_rss_mb;
}

// One row per mode x bottleneck x batch x precision, each in its own child process.
void measure_rows(const BenchOptions& o, const ChildArgs& child_args, bool bilinear, BenchRun& run) {
  for (const auto& mode : o.modes)
    for (const auto& b : mode == "loader" ? std::vector<std::string>{} : o.bottlenecks)
      for (int batch : o.batches)
        for (const auto& p : o.precisions) {
          if (mode == "train" && batch < 2) continue;  // BatchNorm training needs a batch
          const std::string spec =
              mode + ":" + b + ":" + std::to_string(batch) + ":" + p + (bilinear ? ":bilinear" : "");
          std::cerr << "bench: " << spec << "...\n";
          auto r = run_child(child_args(spec));
          nlohmann::json row = r.json;
          row["case"] = spec;
          row["mode"] = mode;
          row["bottleneck"] = b;
          row["batch"] = batch;
          row["precision"] = p;
          row["peak_rss_mb"] = r.peak_rss_mb;
          // The reference is the dense model in NCHW fp32: train at batch 64, infer at batch 1 and 16.
          double ref_ips = 0;
          if (!run.ref.is_null()) {
            if (mode == "train") ref_ips = run.ref.value("train_images_per_s", 0.0);
            else if (batch == 1) ref_ips = run.ref.value("infer_bs1_images_per_s", 0.0);
            else ref_ips = run.ref.value("infer_bs16_images_per_s", 0.0);
          }
          row["reference_images_per_s"] = ref_ips;
          row["ratio"] = ref_ips > 0 ? row["images_per_s"].get<double>() / ref_ips : 0.0;
          const double conv_peak = run.peak[p == "bf16" ? "conv_bf16" : "conv_fp32"].get<double>();
          row["pct_conv_peak"] = 100.0 * row["gflops"].get<double>() / conv_peak;
          run.rows.push_back(row);
        }
}

std::string bench_markdown(const BenchOptions& o, const BenchRun& run) {
  const nlohmann::json& peak = run.peak;
  std::ostringstream md;
  char line[512];
  md << "Machine peaks measured in this run: sgemm 2048^3 " << int(peak["gemm_fp32"].get<double>())
     << " GFLOP/s, bf16 gemm " << int(peak["gemm_bf16"].get<double>()) << " GFLOP/s, conv (best of 64->64 4x4/2 and 256->256 3x3, channels_last) fp32 "
     << int(peak["conv_fp32"].get<double>()) << " GFLOP/s, bf16 " << int(peak["conv_bf16"].get<double>())
     << " GFLOP/s; memory read bandwidth " << int(peak["read_gbps"].get<double>()) << " GB/s.\n";
  if (!run.ref.is_null()) {
    const nlohmann::json& ref = run.ref;
    std::snprintf(line, sizeof(line),
                  "train %.1f img/s at batch 64; inference %.1f img/s at batch 1 (%.1f ms), %.1f img/s at batch "
                  "16; peak RSS %d MB.\n",
                  ref.value("train_images_per_s", 0.0), ref.value("infer_bs1_images_per_s", 0.0),
                  1000.0 / std::max(ref.value("infer_bs1_images_per_s", 0.0), 1e-9),
                  ref.value("infer_bs16_images_per_s", 0.0), int(run.ref_rss));
    md << "Reference (" << run.reference << ", NCHW fp32 eager, dense 4000-d, transposed-conv decoder): " << line;
  }
  if (!run.loader.is_null())
    md << "Loader (" << o.data << ", " << run.loader["images"] << " images, 128x128, random-region masks, "
       << o.loader_threads << " threads): " << int(run.loader["cold_images_per_s"].get<double>())
       << " images/s on the first pass (decoding every file), " << int(run.loader["warm_images_per_s"].get<double>())
       << " images/s once decoded images are cached; " << run.loader["skipped_files"] << " unreadable file(s) skipped.\n";
  md << "\n| case | ms/iter | images/s | reference images/s | ratio | GFLOP/img | GFLOP/s | % of conv peak | peak RSS MB |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : run.rows) {
    char ref[64] = "-", ratio[32] = "-";  // no reference run: no ratio
    if (!run.ref.is_null()) {
      std::snprintf(ref, sizeof(ref), "%.1f%s", r["reference_images_per_s"].get<double>(),
                    (r["mode"] == "infer" && r["batch"].get<int>() > 1) ? " (bs16)" : "");
      std::snprintf(ratio, sizeof(ratio), "%.1fx", r["ratio"].get<double>());
    }
    std::snprintf(line, sizeof(line), "| %s | %.1f | %.1f | %s | %s | %.2f | %.0f | %.0f%% | %.0f |\n",
                  r["case"].get<std::string>().c_str(), 1000 * r["seconds_per_iter"].get<double>(),
                  r["images_per_s"].get<double>(), ref, ratio, r["gflop_per_image"].get<double>(),
                  r["gflops"].get<double>(), r["pct_conv_peak"].get<double>(), r["peak_rss_mb"].get<double>());
    md << line;
  }
  return md.str();
}

void run_bench(const BenchOptions& o) {
  if (!o.child.empty()) return run_child_case(o);
  const bool bilinear = parse_upsampling(o.upsampling) == Upsampling::Bilinear;  // validates the flag
  const std::string exe = self_exe();
  const ChildArgs child_args = [&](const std::string& spec) {
    return std::vector<std::string>{exe, "bench", "--child", spec, "--iters", std::to_string(o.iters), "--threads",
                                    std::to_string(o.threads)};
  };
  BenchRun run;
  run.reference = resolve_reference(o);  // before anything is measured: a wrong path fails at once
  if (std::find(o.modes.begin(), o.modes.end(), "loader") != o.modes.end()) {
    if (o.data.empty()) throw UsageError("--mode loader needs --data DIR");
    std::cerr << "bench: loader on " << o.data << " with " << o.loader_threads << " thread(s)...\n";
    auto args = child_args("loader");
    args.insert(args.end(), {"--data", o.data, "--loader-threads", std::to_string(o.loader_threads)});
    auto r = run_child(args);
    run.loader = r.json;
    run.loader["peak_rss_mb"] = r.peak_rss_mb;
  }
  std::cerr << "bench: measuring machine peaks...\n";
  run.peak = run_child(child_args("peak")).json;
  run_reference(o, run);
  measure_rows(o, child_args, bilinear, run);
  const std::string md = bench_markdown(o, run);
  std::cout << md;
  nlohmann::json all = {{"peaks", run.peak},   {"reference", run.ref}, {"reference_peak_rss_mb", run.ref_rss},
                        {"loader", run.loader}, {"rows", run.rows}};
  if (!o.json_out.empty()) write_file_atomic(o.json_out, all.dump(2) + "\n");
  if (!o.markdown_out.empty()) write_file_atomic(o.markdown_out, md);
}

}  // namespace

void setup_bench(CLI::App& app) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App* sub = app.add_subcommand(
      "bench",
      "Time our training step and inference beside the reference PyTorch implementation\n"
      "(run in the same invocation), and print images/s, the ratio, GFLOP/s and peak RSS.");
  auto& o = *opt;
  sub->add_option("--bottleneck", o.bottlenecks, "Bottlenecks to time")->delimiter(',')->capture_default_str();
  sub->add_option("--batch", o.batches, "Batch sizes (training skips batch 1)")->delimiter(',')->capture_default_str();
  sub->add_option("--precision", o.precisions, "fp32 and/or bf16")->delimiter(',')->capture_default_str();
  sub->add_option("--mode", o.modes, "train, infer and/or loader (loader needs --data)")
      ->delimiter(',')->capture_default_str();
  sub->add_option("--data", o.data, "Loader mode: dataset to read");
  sub->add_option("--loader-threads", o.loader_threads, "Loader mode: decoding threads")->capture_default_str();
  sub->add_option("--upsampling", o.upsampling,
                  "Our decoder: transposed (released code, as the reference) | bilinear (x2 bilinear + 3x3 conv)")
      ->capture_default_str();
  sub->add_option("--iters", o.iters, "Timed iterations per case (median reported)")->capture_default_str();
  sub->add_option("--threads", o.threads, "Threads (0 = all cores), for us and the reference")->capture_default_str();
  sub->add_option("--reference", o.reference,
                  std::string("Reference PyTorch script (default: ") + kDefaultReference + " when it exists)");
  sub->add_option("--python", o.python, "Python with torch for the reference")->capture_default_str();
  sub->add_flag("--no-reference", o.no_reference, "Skip the reference run");
  sub->add_option("--json", o.json_out, "Also write all results as JSON");
  sub->add_option("--markdown", o.markdown_out, "Also write the table as Markdown");
  sub->add_option("--child", o.child, "internal")->group("");
  sub->callback([opt] { run_bench(*opt); });
}

}  // namespace ctxenc::cli
