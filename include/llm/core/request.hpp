// A provider-neutral request: the same value produces an equivalent prompt on every provider.
#pragma once

#include <llm/core/identity.hpp>
#include <llm/core/message.hpp>

#include <cstdint>  // std::uint32_t
#include <optional> // sampling parameters
#include <string>   // model
#include <vector>   // messages, tools, stop

namespace llm {

// A tool the model may call.
struct tool_definition {
    std::string name;
    std::string description;
    std::string parameters = R"({"type":"object","properties":{}})"; // JSON Schema of the arguments

    friend bool operator==(const tool_definition&, const tool_definition&) = default;
};

struct request {
    std::string model;             // e.g. "claude-sonnet-4-6"; a fallback route may replace it
    std::vector<message> messages; // system turns first, then the conversation
    std::optional<std::uint32_t> max_tokens;
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::vector<std::string> stop; // stop sequences
    std::vector<tool_definition> tools;
    llm::identity identity; // who pays: keys rate limits, budgets and cost reports

    friend bool operator==(const request&, const request&) = default;
};

} // namespace llm
