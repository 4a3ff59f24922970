// A vector with a fixed capacity held in place: the few steps and outcomes of one store call
// (one per scope) without a heap allocation on every call. Only the elements pushed are ever
// constructed, copied, moved or destroyed, so an empty one costs nothing to make or move.
#pragma once

#include <cassert>     // capacity
#include <cstddef>     // std::size_t
#include <memory>      // std::construct_at, std::destroy_n
#include <new>         // std::launder
#include <type_traits> // noexcept moves
#include <utility>     // std::move

namespace llm::detail {

template <class T, std::size_t Capacity>
class inline_vector {
public:
    using value_type = T;

    // User-provided, so that value-initialising one (as `T x{}` or an aggregate's omitted member
    // does) leaves the storage alone instead of zeroing all of it.
    inline_vector() noexcept {}

    inline_vector(const inline_vector& other)
    {
        for (const auto& item : other)
            push_back(item);
    }

    inline_vector(inline_vector&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
    {
        for (auto& item : other)
            push_back(std::move(item));
    }

    inline_vector& operator=(const inline_vector& other)
    {
        if (this != &other) {
            clear();
            for (const auto& item : other)
                push_back(item);
        }
        return *this;
    }

    inline_vector& operator=(inline_vector&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
    {
        if (this != &other) {
            clear();
            for (auto& item : other)
                push_back(std::move(item));
        }
        return *this;
    }

    ~inline_vector() { clear(); }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    static constexpr std::size_t capacity() noexcept { return Capacity; }

    template <class... Args>
    T& emplace_back(Args&&... args)
    {
        assert(size_ < Capacity);
        T* item = std::construct_at(begin() + size_, std::forward<Args>(args)...);
        ++size_;
        return *item;
    }

    // Makes the new element from what make() returns, in place: no temporary is moved in, so
    // text just written is not read back to be copied.
    template <class Make>
    T& emplace_back_made(Make&& make)
    {
        assert(size_ < Capacity);
        T* item = ::new (static_cast<void*>(begin() + size_)) T(make());
        ++size_;
        return *item;
    }

    T& push_back(const T& value) { return emplace_back(value); }
    T& push_back(T&& value) { return emplace_back(std::move(value)); }

    void clear() noexcept
    {
        std::destroy_n(begin(), size_);
        size_ = 0;
    }

    T& operator[](std::size_t i) noexcept { return begin()[i]; }
    const T& operator[](std::size_t i) const noexcept { return begin()[i]; }

    T* begin() noexcept { return std::launder(reinterpret_cast<T*>(storage_)); }
    T* end() noexcept { return begin() + size_; }
    const T* begin() const noexcept { return std::launder(reinterpret_cast<const T*>(storage_)); }
    const T* end() const noexcept { return begin() + size_; }
    const T* data() const noexcept { return begin(); }

private:
    alignas(T) unsigned char storage_[sizeof(T) * Capacity]; // the first size_ hold elements
    std::size_t size_ = 0;
};

} // namespace llm::detail
