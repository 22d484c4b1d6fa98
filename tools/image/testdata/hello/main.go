// Command hello prints the line the image tests expect from a container.
package main

import "fmt"

func main() { fmt.Println("hello from a reproducible layer") }
