# Source from the repository root (`. .ci/node.sh`): when the `node` on PATH is older than
# package.json's engines.node (22.12), install the registry's node@24 package (it carries the
# binary) into ~/.cache/edgepool-node24 (or $EDGEPOOL_NODE24_DIR) and put it first on PATH.
# Returns non-zero, with one line saying why, when it cannot get such a Node.
edgepool_node24() {
  node scripts/check-node.js "$(node --version 2>/dev/null)" 2>/dev/null && return 0
  local dir="${EDGEPOOL_NODE24_DIR:-${HOME:-/tmp}/.cache/edgepool-node24}"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    mkdir -p "$dir" || return 1
    # node@24's own install script fetches the binary. npm 12 runs a dependency's install script
    # only when package.json's allowScripts names it (npm 10 and 11 run them all). A package left
    # without its binary by an earlier, blocked install would not be installed again: start over.
    rm -rf "$dir/node_modules"
    printf '{ "private": true, "allowScripts": { "node": true } }\n' >"$dir/package.json"
    if ! npm install --prefix "$dir" --no-save --no-audit --no-fund node@24 >/dev/null; then
      echo "Node bootstrap: \`npm install --prefix $dir node@24\` failed (npm's error is above)" >&2
      return 1
    fi
  fi
  PATH="$dir/node_modules/.bin:$PATH"
  export PATH
  local found
  found="$(node --version 2>/dev/null)"
  if ! node scripts/check-node.js "$found" 2>/dev/null; then
    echo "Node bootstrap: node@24 in $dir left no working node binary (was its install script, which fetches it, blocked?): node on PATH is ${found:-missing}" >&2
    return 1
  fi
}
edgepool_node24
