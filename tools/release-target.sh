#!/bin/sh
# Prints the target `make` builds release binaries for: TARGET ($1) when its standard library
# is installed or rustup can add it now, else the host target, with a notice on stderr (the
# binaries are then dynamic: fine for trying things out, not for `scratch` images).
# Used by the Makefile so that a fresh clone needs nothing but `make run` / `make test`.
target=$1
rustc=${RUSTC:-rustc}
host=$($rustc -vV 2>/dev/null | sed -n 's/^host: //p')
if [ -z "$target" ] || [ "$target" = "$host" ]; then
  echo "${target:-$host}"
  exit 0
fi
has_std() {
  [ -d "$($rustc --print sysroot 2>/dev/null)/lib/rustlib/$target/lib" ]
}
if has_std; then
  echo "$target"
  exit 0
fi
if command -v rustup >/dev/null 2>&1; then
  echo "make: adding the $target standard library (rustup target add $target, once)" >&2
  if rustup target add "$target" >&2 && has_std; then
    echo "$target"
    exit 0
  fi
  why="rustup could not add it"
else
  why="rustup is not installed to add it"
fi
echo "make: NOTICE: no $target standard library ($why): building for the host target" \
  "$host instead (dynamic binaries). Static ones: rustup target add $target" >&2
echo "$host"
