// One piece of a streamed answer, as it arrives.
#pragma once

#include <llm/core/finish_reason.hpp>
#include <llm/core/rate_limits.hpp>
#include <llm/core/usage.hpp>

#include <cstddef>  // std::size_t
#include <optional> // finish_reason, usage
#include <string>   // text
#include <vector>   // tool_calls

namespace llm {

// A piece of one tool call. Pieces with the same index belong to the same call:
// id and name arrive first, the JSON arguments in pieces after them.
struct tool_call_delta {
    std::size_t index = 0;
    std::string id;
    std::string name;
    std::string arguments; // the next piece of JSON text, to append
    std::string signature; // tool_call::signature, when the provider sends one

    friend bool operator==(const tool_call_delta&, const tool_call_delta&) = default;
};

struct chunk {
    std::string text; // the next piece of text, to append
    std::vector<tool_call_delta> tool_calls;
    std::optional<llm::finish_reason> finish_reason; // set on the last chunk
    std::optional<llm::usage> usage;                 // set when the provider reports usage
    llm::rate_limits rate_limits; // the provider's rate-limit headers, on a streamed answer's first chunk

    friend bool operator==(const chunk&, const chunk&) = default;
};

} // namespace llm
