// Portability macros shared by every header. Kept tiny: it is included everywhere.
#pragma once

// MSVC accepts the standard spelling but ignores it; its own attribute does the work.
#if defined(_MSC_VER) && !defined(__clang__)
#define LLM_NO_UNIQUE_ADDRESS [[msvc::no_unique_address]]
#else
#define LLM_NO_UNIQUE_ADDRESS [[no_unique_address]]
#endif

// For the few tiny helpers of a hot path that the compiler would otherwise call from several
// places rather than inline (copying a key's parts, taking a shard's lock, probing its table):
// measured, not guessed.
#if defined(_MSC_VER) && !defined(__clang__)
#define LLM_ALWAYS_INLINE __forceinline
#else
#define LLM_ALWAYS_INLINE inline __attribute__((always_inline))
#endif

// For a rare path kept out of a hot function, whose frame it would otherwise enlarge.
#if defined(_MSC_VER) && !defined(__clang__)
#define LLM_NOINLINE __declspec(noinline)
#else
#define LLM_NOINLINE __attribute__((noinline))
#endif
