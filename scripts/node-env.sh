# Sourced: puts Node >= 22 on PATH, installing node@22 from the npm registry into .tooling/ when the
# system Node is older. Used by .ci/run and any script that needs the project's Node.
_sy_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_sy_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_sy_major)" -lt 22 ]; then
  if [ ! -x "$_sy_root/.tooling/node_modules/.bin/node" ]; then
    npm install --prefix "$_sy_root/.tooling" --no-audit --no-fund node@22 >&2 || return 1
  fi
  export PATH="$_sy_root/.tooling/node_modules/.bin:$PATH"
fi
[ "$(_sy_major)" -ge 22 ] || { echo "node >= 22 is required, found $(node --version)" >&2; return 1; }
