// A provider-neutral request: the same value produces an equivalent prompt on every provider.
#pragma once

#include <llm/core/identity.hpp>
#include <llm/core/message.hpp>

#include <cstdint>  // std::uint32_t
#include <optional> // sampling parameters
#include <string>   // model
#include <utility>  // std::move
#include <vector>   // messages, tools, stop

namespace llm {

// A tool the model may call.
struct tool_definition {
    std::string name;
    std::string description;
    std::string parameters = R"({"type":"object","properties":{}})"; // JSON Schema of the arguments

    friend bool operator==(const tool_definition&, const tool_definition&) = default;
};

// Whether and which tool the model must call.
struct tool_choice {
    enum class mode {
        automatic, // the model decides (the default when tools are given)
        none,      // the model must answer in text
        required,  // the model must call one of the tools
        tool,      // the model must call the tool named `name`
    };
    mode kind = mode::automatic;
    std::string name; // for mode::tool

    static tool_choice automatic() { return {}; }
    static tool_choice none() { return {mode::none, {}}; }
    static tool_choice required() { return {mode::required, {}}; }
    static tool_choice named(std::string tool) { return {mode::tool, std::move(tool)}; }

    friend bool operator==(const tool_choice&, const tool_choice&) = default;
};

// Structured output: the answer's text must be JSON valid against `schema`.
struct json_schema_format {
    std::string name = "answer"; // some providers require a name for the schema
    std::string schema;          // a JSON Schema, as JSON text
    bool strict = true;          // ask the provider to enforce the schema exactly, where it can

    friend bool operator==(const json_schema_format&, const json_schema_format&) = default;
};

struct request {
    std::string model;             // e.g. "claude-sonnet-4-6"; a fallback route may replace it
    std::vector<message> messages; // system turns first, then the conversation
    std::optional<std::uint32_t> max_tokens;
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::vector<std::string> stop; // stop sequences
    std::vector<tool_definition> tools;
    std::optional<llm::tool_choice> tool_choice;       // the provider's default when unset
    std::optional<json_schema_format> response_format; // plain text when unset
    llm::identity identity;                            // who pays: keys rate limits, budgets and cost reports

    friend bool operator==(const request&, const request&) = default;
};

} // namespace llm
