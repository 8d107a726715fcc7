// ctxenc/errors.h — the library's exception types and the exit code each maps to.
// The library throws; only the CLI boundary catches, prints one line and exits.
#pragma once
#include <stdexcept>
#include <string>

namespace ctxenc {

// Process exit codes, one per failure class (documented in README and `ctxenc --help`).
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,     // a bug or an unexpected library failure
  kExitUsage = 2,        // bad flags or flag values
  kExitInput = 3,        // missing/unreadable/non-image input, bad mask
  kExitModel = 4,        // checkpoint missing, truncated, foreign or inconsistent
  kExitOutput = 5,       // output cannot be written
  kExitData = 6,         // dataset empty or unusable
  kExitTooLarge = 7,     // image above the configured pixel limit
  kExitInterrupted = 130 // SIGINT/SIGTERM; state was saved where that applies
};

// The one table of exit codes: `ctxenc --help`, the man page (EXIT STATUS) and
// the README print it; tests check that they agree.
struct ExitCodeInfo {
  ExitCode code;
  const char* meaning;
};
inline constexpr ExitCodeInfo kExitCodes[] = {
    {kExitOk, "ok"},
    {kExitInternal, "internal error"},
    {kExitUsage, "usage (bad flags or flag values)"},
    {kExitInput, "bad input image or mask"},
    {kExitModel, "bad model file"},
    {kExitOutput, "output not writable"},
    {kExitData, "unusable dataset"},
    {kExitTooLarge, "image above the pixel limit (--max-pixels)"},
    {kExitInterrupted, "interrupted (a training checkpoint is saved)"},
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

struct UsageError : Error { explicit UsageError(const std::string& m) : Error(kExitUsage, m) {} };
struct InputError : Error { explicit InputError(const std::string& m) : Error(kExitInput, m) {} };
struct ModelFileError : Error { explicit ModelFileError(const std::string& m) : Error(kExitModel, m) {} };
struct OutputError : Error { explicit OutputError(const std::string& m) : Error(kExitOutput, m) {} };
struct DataError : Error { explicit DataError(const std::string& m) : Error(kExitData, m) {} };
struct TooLargeError : Error { explicit TooLargeError(const std::string& m) : Error(kExitTooLarge, m) {} };
struct InterruptedError : Error { explicit InterruptedError(const std::string& m) : Error(kExitInterrupted, m) {} };

// Throws the Error subclass whose exit code is `code` (a plain Error for the others).
[[noreturn]] inline void throw_error(ExitCode code, const std::string& msg) {
  switch (code) {
    case kExitUsage: throw UsageError(msg);
    case kExitInput: throw InputError(msg);
    case kExitModel: throw ModelFileError(msg);
    case kExitOutput: throw OutputError(msg);
    case kExitData: throw DataError(msg);
    case kExitTooLarge: throw TooLargeError(msg);
    case kExitInterrupted: throw InterruptedError(msg);
    default: throw Error(code, msg);
  }
}

}  // namespace ctxenc
