// ctxenc/version.h — the library's version and the git commit it was built
// from, and the place bare model names are looked up.
#pragma once
#include <string>
#include <vector>

namespace ctxenc {

// "0.1.0": the project version (libctxenc.so.MAJOR follows its first number).
const char* version();
// The short git commit of the source tree ("1a2b3c4d5e6f", "-dirty" when it
// had local changes, "unknown" outside git).
const char* git_commit();

// The folders a model name without a path ("center", "center.ctxm") is looked
// up in, in order: each entry of $CTXENC_MODEL_PATH (':'-separated), the
// share/ctxenc/models folder beside the installed library, and the install
// prefix's share/ctxenc/models.
std::vector<std::string> model_search_dirs();

// `name` itself when it names an existing file or contains a '/'; otherwise
// the first of model_search_dirs() holding `name` or `name`.ctxm. Throws
// ModelFileError listing the folders searched when none does.
std::string resolve_model_path(const std::string& name);

}  // namespace ctxenc
