// Package fetch keeps the data cache of dlexp and fills it safely.
//
// The cache is the folder named by $DLEXP_DATA, by default "dlexp" under the user's
// cache folder (os.UserCacheDir). A file enters the cache only after its checksum
// (SHA-256, or the publisher's MD5 where that is all there is) has been checked,
// and only by renaming a fully written and synced temporary file in the same
// folder, so a crash never leaves half a file under the final name.
//
// Fetch tries, in order, the cache, then each Source of a File (a local file, a
// file found lazily such as inside a Go module, or a URL). When none can give
// the file, the error says in one line which file to put where by hand.
//
// Unpack extracts tar.gz and zip archives, refusing entries whose path leaves
// the target folder, links of any kind, and sizes beyond set limits.
//
// Progress lines for downloads and unpacking go to standard error, at most a few
// times a second, and only when standard error is a terminal, unless
// DLEXP_PROGRESS=1 asks for them anyway (DLEXP_PROGRESS=0 silences them).
package fetch
