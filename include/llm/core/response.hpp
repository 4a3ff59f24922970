// A complete answer, the same shape on every provider.
#pragma once

#include <llm/core/finish_reason.hpp>
#include <llm/core/message.hpp>
#include <llm/core/rate_limits.hpp>
#include <llm/core/usage.hpp>

#include <optional> // cost
#include <string>   // text, model, route
#include <vector>   // tool_calls

namespace llm {

struct response {
    std::string text;
    std::vector<tool_call> tool_calls;
    llm::finish_reason finish_reason = finish_reason::stop;
    llm::usage usage;
    std::string model;            // the model that answered, as the provider named it
    std::string route;            // the fallback route that answered; empty without fallback
    std::optional<double> cost;   // in US dollars, when a price table knows the model
    bool cached = false;          // served by the cache: no provider was called, nothing was billed
    llm::rate_limits rate_limits; // the provider's rate-limit headers on this answer

    friend bool operator==(const response&, const response&) = default;
};

} // namespace llm
