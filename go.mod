module github.com/dlexp/dlexp

go 1.26.8
