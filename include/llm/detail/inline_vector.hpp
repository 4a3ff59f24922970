// A vector with a fixed capacity held in place: the few steps and outcomes of one store call
// (one per scope) without a heap allocation on every call.
#pragma once

#include <array>   // storage
#include <cassert> // capacity
#include <cstddef> // std::size_t
#include <utility> // std::move

namespace llm::detail {

template <class T, std::size_t Capacity>
class inline_vector {
public:
    using value_type = T;

    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    static constexpr std::size_t capacity() noexcept { return Capacity; }

    constexpr T& push_back(T value)
    {
        assert(size_ < Capacity);
        items_[size_] = std::move(value);
        return items_[size_++];
    }

    constexpr T& operator[](std::size_t i) noexcept { return items_[i]; }
    constexpr const T& operator[](std::size_t i) const noexcept { return items_[i]; }

    constexpr T* begin() noexcept { return items_.data(); }
    constexpr T* end() noexcept { return items_.data() + size_; }
    constexpr const T* begin() const noexcept { return items_.data(); }
    constexpr const T* end() const noexcept { return items_.data() + size_; }
    constexpr const T* data() const noexcept { return items_.data(); }

private:
    std::array<T, Capacity> items_{};
    std::size_t size_ = 0;
};

} // namespace llm::detail
