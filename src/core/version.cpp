// core/version.cpp — version() and git_commit() from the generated version_info.h.
#include "ctxenc/version.h"

#include "version_info.h"

namespace ctxenc {

const char* version() { return CTXENC_VERSION_STRING; }
const char* git_commit() { return CTXENC_GIT_COMMIT; }

}  // namespace ctxenc
