// Tool calls in a stream: each provider numbers them its own way (by content block, by a
// sparse index, or not at all); chunks number them densely, in order of arrival.
#pragma once

#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t
#include <optional>    // an index may be absent
#include <string>      // ids
#include <string_view> // ids
#include <vector>      // seen

namespace llm::provider::detail {

// Maps the provider's tool-call indices (sparse, or absent) to dense ones in order of arrival.
class call_indices {
public:
    // The dense index for the provider's `index`, or for a call without one: a new call unless
    // its id is one already seen.
    std::size_t of(std::optional<std::uint64_t> index, std::string_view id)
    {
        for (const auto& [key, known_id, dense] : seen_)
            if (index ? key == index : (!id.empty() && known_id == id))
                return dense;
        seen_.push_back({index, std::string(id), seen_.size()});
        return seen_.size() - 1;
    }
    bool any() const noexcept { return !seen_.empty(); }

private:
    struct entry {
        std::optional<std::uint64_t> key;
        std::string id;
        std::size_t dense;
    };
    std::vector<entry> seen_;
};

} // namespace llm::provider::detail
