package maintscript

import "mvdan.cc/sh/v3/syntax"

// mvdan.cc/sh applies set -e to compound commands too: `if c; then a && b; fi` exits the
// script when a fails, because the if statement's status is a's. POSIX shells (dash, bash)
// ignore a failure that comes from a context where -e is ignored (the left side of && or
// ||, a negated command) also when it becomes a compound command's status, and go on.
//
// fixErrexit rewrites a parsed script so that the interpreter behaves as dash does: a
// compound command (if, case, for, while, { }) whose status is not used ends with ":" when
// its body ends with an AND-OR list or a negated command, so that such a status is reset
// instead of ending the script. A status is used when the compound is the last command of a
// function body, of a subshell or of the script (it becomes the return or exit status), or
// part of a condition, an AND-OR list or a pipeline; those are left alone, and behave as in
// dash (a function returning such a status ends the script when called as a plain command,
// in dash as here).
func fixErrexit(f *syntax.File) {
	fixStmts(f.Stmts, true)
}

// fixStmts fixes a statement list whose last status is used when value is set.
func fixStmts(stmts []*syntax.Stmt, value bool) {
	for i, st := range stmts {
		fixStmt(st, value && i == len(stmts)-1)
	}
}

// fixBody fixes the body of a compound command and appends ":" when needed.
func fixBody(stmts []*syntax.Stmt, value bool) []*syntax.Stmt {
	fixStmts(stmts, value)
	if value || len(stmts) == 0 {
		return stmts
	}
	last := stmts[len(stmts)-1]
	b, isList := last.Cmd.(*syntax.BinaryCmd)
	if last.Negated || isList && (b.Op == syntax.AndStmt || b.Op == syntax.OrStmt) {
		colon := &syntax.Stmt{Cmd: &syntax.CallExpr{Args: []*syntax.Word{{Parts: []syntax.WordPart{&syntax.Lit{Value: ":"}}}}}}
		stmts = append(stmts, colon)
	}
	return stmts
}

// fixStmt fixes the compound commands inside one statement.
func fixStmt(st *syntax.Stmt, value bool) {
	switch c := st.Cmd.(type) {
	case *syntax.IfClause:
		for ic := c; ic != nil; ic = ic.Else {
			fixStmts(ic.Cond, true)
			ic.Then = fixBody(ic.Then, value)
		}
	case *syntax.WhileClause:
		fixStmts(c.Cond, true)
		c.Do = fixBody(c.Do, value)
	case *syntax.ForClause:
		c.Do = fixBody(c.Do, value)
	case *syntax.CaseClause:
		for _, item := range c.Items {
			item.Stmts = fixBody(item.Stmts, value)
		}
	case *syntax.Block:
		c.Stmts = fixBody(c.Stmts, value)
	case *syntax.Subshell:
		fixStmts(c.Stmts, true)
	case *syntax.FuncDecl:
		fixStmt(c.Body, true)
	case *syntax.BinaryCmd:
		fixStmt(c.X, true)
		fixStmt(c.Y, true)
	}
}

// scriptPID stands for $$ in every script: the interpreter would give the host process's
// pid, and scripts name temporary files after it.
const scriptPID = "4242"

// fixDeterminism makes the expansions that depend on the host deterministic: $$ becomes a
// constant and $RANDOM is seeded (subshells get the same sequence).
func fixDeterminism(f *syntax.File) {
	syntax.Walk(f, func(n syntax.Node) bool {
		w, ok := n.(*syntax.Word)
		if !ok {
			return true
		}
		for i, part := range w.Parts {
			if pe, ok := part.(*syntax.ParamExp); ok && pe.Param != nil && pe.Param.Value == "$" && pe.Exp == nil && pe.Repl == nil && pe.Slice == nil && !pe.Length && !pe.Excl {
				w.Parts[i] = &syntax.Lit{Value: scriptPID}
			}
		}
		return true
	})
	seed := &syntax.Stmt{Cmd: &syntax.CallExpr{Assigns: []*syntax.Assign{{Name: &syntax.Lit{Value: "RANDOM"}, Value: &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{Value: "1"}}}}}}}
	f.Stmts = append([]*syntax.Stmt{seed}, f.Stmts...)
}
