// Why a model stopped, normalized across providers.
#pragma once

#include <string_view> // to_string

namespace llm {

enum class finish_reason {
    stop,           // the model ended its answer, or hit a stop sequence
    length,         // max_tokens (or the context window) cut the answer short
    tool_calls,     // the model wants tool results before it continues
    content_filter, // the provider withheld or cut the answer for safety reasons
    error,          // the provider failed while generating
    other,          // a reason the provider gave that has no normalized meaning yet
};

constexpr std::string_view to_string(finish_reason r) noexcept
{
    switch (r) {
    case finish_reason::stop:
        return "stop";
    case finish_reason::length:
        return "length";
    case finish_reason::tool_calls:
        return "tool_calls";
    case finish_reason::content_filter:
        return "content_filter";
    case finish_reason::error:
        return "error";
    case finish_reason::other:
        return "other";
    }
    return "other";
}

} // namespace llm
