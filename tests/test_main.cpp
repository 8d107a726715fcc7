// test_main.cpp — GoogleTest entry point. Threads follow $CTXENC_THREADS
// (ctest sets 1 per test process) or the core count.
#include <gtest/gtest.h>

#include "ctxenc/config.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ctxenc::set_threads(0);
  return RUN_ALL_TESTS();
}
