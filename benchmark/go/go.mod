module afterfunc/benchmark/go

go 1.22
