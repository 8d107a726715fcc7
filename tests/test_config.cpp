// test_config.cpp — configs: impossible values refused naming the field, and the JSON form
// (every field round-trips; unknown fields and enum names are errors).
#include <gtest/gtest.h>

#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(Config, ConfigRejectsImpossibleSizes) {
  ModelConfig c;
  c.image_size = 100;
  EXPECT_THROW(c.validate(), std::exception);
  c.image_size = 16;
  EXPECT_THROW(c.validate(), std::exception);
}
