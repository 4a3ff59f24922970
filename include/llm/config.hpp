// Portability macros shared by every header. Kept tiny: it is included everywhere.
#pragma once

// MSVC accepts the standard spelling but ignores it; its own attribute does the work.
#if defined(_MSC_VER) && !defined(__clang__)
#define LLM_NO_UNIQUE_ADDRESS [[msvc::no_unique_address]]
#else
#define LLM_NO_UNIQUE_ADDRESS [[no_unique_address]]
#endif
