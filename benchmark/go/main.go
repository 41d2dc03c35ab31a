// The Go side of afterfunc's benchmark: S1 arm, S2 reset, S3 stop (scale and steady), S4
// bytes per timer and S5 fire, with time.AfterFunc, Timer.Stop and Timer.Reset, measured the
// way benchmark/lib/*.mjs measures the JavaScript engines. Standard library only.
//
//	go run . -suite scale|steady|fire -n 1000000 [-time 1s] [-warmup 300ms]
//
// Prints one line `@@RESULT {json}`.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// duration is the i-th timer's duration in S1–S4: 60 s + (i mod 4096)·7 ms.
func duration(i int) time.Duration {
	return 60*time.Second + time.Duration(i%4096)*7*time.Millisecond
}

// processCPU is the CPU time of the whole process (every thread), from getrusage.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type phase struct {
	WallNs float64 `json:"wall_ns"`
	CPUNs  float64 `json:"cpu_ns"`
}

func measure(n int, loop func()) phase {
	c0 := processCPU()
	t0 := time.Now()
	loop()
	wall := time.Since(t0)
	cpu := processCPU() - c0
	return phase{WallNs: float64(wall.Nanoseconds()) / float64(n), CPUNs: float64(cpu.Nanoseconds()) / float64(n)}
}

func heapInUse() (heap uint64, sys uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.Sys - m.HeapReleased
}

// rss reads the resident set size from /proc/self/statm (0 elsewhere).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res uint64
	fmt.Sscan(string(b), &size, &res)
	return res * uint64(os.Getpagesize())
}

// scale: the first n arms, resets and stops in a fresh process, and the memory of n live timers.
func scale(n int) map[string]any {
	f := func() {}
	timers := make([]*time.Timer, n)
	time.AfterFunc(time.Millisecond, f).Stop()
	h0, _ := heapInUse()
	r0 := rss()
	arm := measure(n, func() {
		for i := 0; i < n; i++ {
			timers[i] = time.AfterFunc(duration(i), f)
		}
	})
	h1, _ := heapInUse()
	r1 := rss()
	reset := measure(n, func() {
		for i := 0; i < n; i++ {
			timers[i].Reset(duration(i))
		}
	})
	stop := measure(n, func() {
		for i := 0; i < n; i++ {
			timers[i].Stop()
		}
	})
	return map[string]any{
		"arm": arm, "reset": reset, "stop": stop,
		"memory": map[string]float64{
			"heap_bytes": float64(int64(h1)-int64(h0)) / float64(n),
			"rss_bytes":  float64(int64(r1)-int64(r0)) / float64(n),
		},
	}
}

const K = 1000

// bench runs body (K operations) for warmup, then for at least d, and returns the mean ns
// per operation and the median of the per-iteration means, like the tinybench figures.
func bench(d, warmup time.Duration, body func()) map[string]float64 {
	for t0 := time.Now(); time.Since(t0) < warmup; {
		body()
	}
	runtime.GC()
	var samples []float64
	c0 := processCPU()
	start := time.Now()
	for time.Since(start) < d || len(samples) < 64 {
		t := time.Now()
		body()
		samples = append(samples, float64(time.Since(t).Nanoseconds())/K)
	}
	total := time.Since(start)
	cpu := processCPU() - c0
	sort.Float64s(samples)
	sum := 0.0
	for _, s := range samples {
		sum += s
	}
	ops := float64(len(samples) * K)
	_ = total
	return map[string]float64{
		"ns":      sum / float64(len(samples)),
		"p50_ns":  samples[len(samples)/2],
		"cpu_ns":  float64(cpu.Nanoseconds()) / ops,
		"samples": float64(len(samples)),
	}
}

// steady: per-operation time with n timers pending, as benchmark/lib/steady.mjs.
func steady(n int, which string, d, warmup time.Duration) map[string]any {
	f := func() {}
	timers := make([]*time.Timer, n)
	for i := 0; i < n; i++ {
		timers[i] = time.AfterFunc(duration(i), f)
	}
	runtime.GC()
	j, s := 0, 0
	out := map[string]any{}
	switch which {
	case "arm":
		out["pair"] = bench(d, warmup, func() {
			for k := 0; k < K; k++ {
				time.AfterFunc(duration(s), f).Stop()
				s++
			}
		})
	case "reset":
		out["pair"] = bench(d, warmup, func() {
			for k := 0; k < K; k++ {
				timers[j].Reset(duration(j))
				if j++; j == n {
					j = 0
				}
			}
		})
	case "stop":
		out["pair"] = bench(d, warmup, func() {
			for k := 0; k < K; k++ {
				timers[j].Stop()
				timers[j] = time.AfterFunc(duration(j), f)
				if j++; j == n {
					j = 0
				}
			}
		})
	default:
		panic("unknown steady suite " + which)
	}
	runtime.KeepAlive(timers)
	return out
}

// fire: n timers due at random points of a 100 ms window that opens 200 ms after arming
// ends, as benchmark/lib/fire.mjs. Each callback (its own goroutine, as AfterFunc does)
// records how late it ran against time.Now() read before AfterFunc plus its delay.
func fire(n int) map[string]any {
	const window = 100 * time.Millisecond
	rng := rand.New(rand.NewSource(1))
	late := make([]float64, n)
	var fired atomic.Int64
	var wg sync.WaitGroup
	wg.Add(n)
	open := time.Now().Add(200*time.Millisecond + time.Duration(n)*1500*time.Nanosecond)
	var first time.Time
	armStart := time.Now()
	for i := 0; i < n; i++ {
		at := open.Add(time.Duration(rng.Int63n(int64(window))))
		now := time.Now()
		d := at.Sub(now).Round(time.Millisecond)
		if d < time.Millisecond {
			d = time.Millisecond
		}
		dl := now.Add(d)
		if i == 0 || dl.Before(first) {
			first = dl
		}
		i := i
		time.AfterFunc(d, func() {
			late[i] = float64(time.Since(dl).Nanoseconds()) / 1e6
			fired.Add(1)
			wg.Done()
		})
	}
	armMs := float64(time.Since(armStart).Nanoseconds()) / 1e6
	if w := time.Until(first) - 20*time.Millisecond; w > 0 {
		time.Sleep(w)
	}
	c0 := processCPU()
	t0 := time.Now()
	wg.Wait()
	wall := time.Since(t0)
	cpu := processCPU() - c0
	sort.Float64s(late)
	early := 0
	for _, l := range late {
		if l < 0 {
			early++
		}
	}
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(n))) - 1
		if i < 0 {
			i = 0
		}
		return late[i]
	}
	return map[string]any{
		"arm_ms":          armMs,
		"cpu_per_fire_ns": float64(cpu.Nanoseconds()) / float64(n),
		"window_wall_ms":  float64(wall.Nanoseconds()) / 1e6,
		"late_p50_ms":     q(0.5),
		"late_p99_ms":     q(0.99),
		"late_max_ms":     late[n-1],
		"late_min_ms":     late[0],
		"early":           early,
	}
}

func main() {
	suite := flag.String("suite", "scale", "scale | steady-arm | steady-reset | steady-stop | fire")
	n := flag.Int("n", 1_000_000, "live timers")
	d := flag.Duration("time", time.Second, "steady: measuring time per figure")
	warmup := flag.Duration("warmup", 300*time.Millisecond, "steady: warm-up time")
	flag.Parse()
	debug.SetGCPercent(100)
	var result map[string]any
	switch *suite {
	case "scale":
		result = scale(*n)
	case "steady-arm":
		result = steady(*n, "arm", *d, *warmup)
	case "steady-reset":
		result = steady(*n, "reset", *d, *warmup)
	case "steady-stop":
		result = steady(*n, "stop", *d, *warmup)
	case "fire":
		result = fire(*n)
	default:
		fmt.Fprintln(os.Stderr, "unknown suite", *suite)
		os.Exit(2)
	}
	result["suite"] = *suite
	result["engine"] = "go"
	result["n"] = *n
	result["go"] = runtime.Version()
	result["gomaxprocs"] = runtime.GOMAXPROCS(0)
	result["self_cpu_ms"] = float64(processCPU().Nanoseconds()) / 1e6
	b, err := json.Marshal(result)
	if err != nil {
		panic(err)
	}
	fmt.Printf("\n@@RESULT %s\n", b)
}
