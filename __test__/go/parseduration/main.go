// Command parseduration is the reference for time.parseDuration's tests: it reads a JSON array
// of strings on stdin and writes, for each, what Go's time.ParseDuration returns: the duration
// in nanoseconds as a decimal string, or the error's message. generate.mjs runs it to write
// cases.json.
package main

import (
	"encoding/json"
	"os"
	"strconv"
	"time"
)

type result struct {
	Nanos *string `json:"nanos"`
	Err   *string `json:"err"`
}

func main() {
	var inputs []string
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	results := make([]result, len(inputs))
	for i, s := range inputs {
		d, err := time.ParseDuration(s)
		if err != nil {
			msg := err.Error()
			results[i].Err = &msg
		} else {
			nanos := strconv.FormatInt(int64(d), 10)
			results[i].Nanos = &nanos
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		panic(err)
	}
}
