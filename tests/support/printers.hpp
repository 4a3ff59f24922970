// How Catch2 prints llm's types in a failed assertion.
#pragma once

#include <llm/core/result.hpp>

#include <catch2/catch.hpp>

namespace Catch {

template <>
struct StringMaker<llm::error> {
    static std::string convert(const llm::error& e) { return "llm::error{" + e.describe() + "}"; }
};

template <class T>
struct StringMaker<llm::result<T>> {
    static std::string convert(const llm::result<T>& r)
    {
        return r ? std::string("result{value}") : "result{" + StringMaker<llm::error>::convert(r.error()) + "}";
    }
};

} // namespace Catch
