// A completion handler that stands for "any handler" inside concept checks.
#pragma once

namespace llm::detail {

template <class... Args>
struct handler_archetype {
    void operator()(Args...) && {}
};

} // namespace llm::detail
