// A page's filters live in its address, so a filtered view can be shared
// and survives a reload.

// {key: value from ?key=, or ""} for every key.
export function readFilters(keys) {
  var params = new URLSearchParams(location.search);
  var filter = {};
  keys.forEach(function (k) { filter[k] = params.get(k) || ""; });
  return filter;
}

// The page's query with the filters set (empty ones dropped, every other
// parameter kept): "?a=b", or "" when nothing is left.
export function filterSearch(filter, keys) {
  var p = new URLSearchParams(location.search);
  keys.forEach(function (k) {
    if (filter[k].trim()) p.set(k, filter[k]);
    else p.delete(k);
  });
  var qs = p.toString();
  return qs ? "?" + qs : "";
}
