// test_main.cpp — GoogleTest entry point; pins the thread count so tests are
// repeatable and do not oversubscribe the CI machine.
#include <gtest/gtest.h>

#include "ctxenc/config.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ctxenc::set_threads(0);
  return RUN_ALL_TESTS();
}
