// Embeddings: texts in, one vector per text out, the same shape on every provider.
#pragma once

#include <llm/core/identity.hpp>
#include <llm/core/usage.hpp>

#include <cstdint>  // std::uint32_t
#include <optional> // dimensions
#include <string>   // model, inputs
#include <vector>   // inputs, vectors

namespace llm {

struct embedding_request {
    std::string model;
    std::vector<std::string> inputs;
    std::optional<std::uint32_t> dimensions; // a shorter vector, where the model supports it
    llm::identity identity;

    friend bool operator==(const embedding_request&, const embedding_request&) = default;
};

struct embedding_response {
    std::vector<std::vector<float>> vectors; // in the order of embedding_request::inputs
    llm::usage usage;                        // input tokens only
    std::string model;

    friend bool operator==(const embedding_response&, const embedding_response&) = default;
};

} // namespace llm
