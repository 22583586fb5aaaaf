package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/lethe-privacy/lethe/retention"
)

// InputValidation is the one place where every string an operation brings
// is checked before any resolver runs: the variables and the literals of
// the document (arguments, input objects, lists, defaults), whatever field
// they are for. A string no store can hold (NUL, invalid UTF-8) is answered
// BAD_USER_INPUT naming the variable or argument, and nothing runs.
//
// Enum values of variables are checked here too, against the variable's
// declared type: gqlparser leaves them to gqlgen's generated unmarshalling,
// which fails inside the field with an error indistinguishable from a
// resolver's.
type InputValidation struct{ schema *ast.Schema }

var (
	_ graphql.HandlerExtension        = (*InputValidation)(nil)
	_ graphql.OperationContextMutator = (*InputValidation)(nil)
)

func (*InputValidation) ExtensionName() string { return "InputValidation" }

// Validate keeps the schema, for the types of variables.
func (v *InputValidation) Validate(es graphql.ExecutableSchema) error {
	v.schema = es.Schema()
	return nil
}

func (v *InputValidation) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	for name, val := range rc.Variables {
		if err := checkValue("$"+name, val); err != nil {
			return inputError(err)
		}
	}
	if rc.Doc == nil {
		return nil
	}
	for _, op := range rc.Doc.Operations {
		for _, def := range op.VariableDefinitions {
			if val, ok := rc.Variables[def.Variable]; ok && v.schema != nil {
				if err := v.checkEnums("$"+def.Variable, def.Type, val); err != nil {
					return inputError(err)
				}
			}
			if err := checkLiteral("$"+def.Variable, def.DefaultValue); err != nil {
				return inputError(err)
			}
		}
		if err := checkSelection(op.SelectionSet); err != nil {
			return inputError(err)
		}
	}
	for _, f := range rc.Doc.Fragments {
		if err := checkSelection(f.SelectionSet); err != nil {
			return inputError(err)
		}
	}
	return nil
}

func inputError(err error) *gqlerror.Error {
	var field string
	if e, ok := err.(*retention.Error); ok {
		field = e.Field
	}
	gqlErr := &gqlerror.Error{Message: retention.ErrorMessage(err), Err: err,
		Extensions: map[string]any{"code": string(retention.CodeBadUserInput), "field": field}}
	return gqlErr
}

// checkValue walks a variable's JSON value.
func checkValue(path string, v any) error {
	switch v := v.(type) {
	case string:
		return retention.CheckArgument(path, v)
	case map[string]any:
		for k, e := range v {
			if err := retention.CheckArgument(path+" (a key)", k); err != nil {
				return err
			}
			if err := checkValue(path+"."+k, e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := checkValue(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSelection walks the arguments of every field of a selection set;
// fragment spreads are walked with the document's fragments.
func checkSelection(set ast.SelectionSet) error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, arg := range s.Arguments {
				if err := checkLiteral(arg.Name, arg.Value); err != nil {
					return err
				}
			}
			if err := checkSelection(s.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := checkSelection(s.SelectionSet); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkLiteral walks a literal value of the document.
func checkLiteral(path string, v *ast.Value) error {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		return retention.CheckArgument(path, v.Raw)
	case ast.ListValue:
		for i, c := range v.Children {
			if err := checkLiteral(fmt.Sprintf("%s[%d]", path, i), c.Value); err != nil {
				return err
			}
		}
	case ast.ObjectValue:
		for _, c := range v.Children {
			if err := checkLiteral(path+"."+c.Name, c.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkEnums walks a variable's value along its declared type and refuses
// a string that is not a value of the enum it stands for.
func (v *InputValidation) checkEnums(path string, typ *ast.Type, val any) error {
	if val == nil || typ == nil {
		return nil
	}
	if typ.Elem != nil {
		list, ok := val.([]any)
		if !ok { // a single value stands for a list of one
			return v.checkEnums(path, typ.Elem, val)
		}
		for i, e := range list {
			if err := v.checkEnums(fmt.Sprintf("%s[%d]", path, i), typ.Elem, e); err != nil {
				return err
			}
		}
		return nil
	}
	def := v.schema.Types[typ.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.Enum:
		s, ok := val.(string)
		if ok && def.EnumValues.ForName(s) != nil {
			return nil
		}
		names := make([]string, len(def.EnumValues))
		for i, ev := range def.EnumValues {
			names[i] = ev.Name
		}
		shown := fmt.Sprint(val)
		if len(shown) > 40 {
			shown = shown[:40] + "…"
		}
		return retention.FieldErrorf(path, "%s: %q is not a %s; use one of %s (enum values are case-sensitive)", path, shown, def.Name, strings.Join(names, ", "))
	case ast.InputObject:
		obj, ok := val.(map[string]any)
		if !ok {
			return nil // gqlparser has refused it already
		}
		for _, f := range def.Fields {
			if err := v.checkEnums(path+"."+f.Name, f.Type, obj[f.Name]); err != nil {
				return err
			}
		}
	}
	return nil
}
