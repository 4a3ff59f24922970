// The one home of the library's version; CMake reads it from here.
#pragma once

#define LLM_VERSION_MAJOR 0
#define LLM_VERSION_MINOR 1
#define LLM_VERSION_PATCH 0

namespace llm {
inline constexpr int version_major = LLM_VERSION_MAJOR;
inline constexpr int version_minor = LLM_VERSION_MINOR;
inline constexpr int version_patch = LLM_VERSION_PATCH;
} // namespace llm
