// GraphiQL for Lethe's playground, bundled by esbuild into
// console/static/graphiql/graphiql.js (and graphiql.css): the playground
// page imports mount() and passes a fetcher that carries the session's
// token, so nothing here knows about tokens or fetches from anywhere else.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';

// mount renders GraphiQL into el. storage is where GraphiQL keeps its tabs
// and history (the playground passes sessionStorage: this tab only).
export function mount(el, { fetcher, defaultQuery, storage }) {
  createRoot(el).render(
    <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} storage={storage}
      isHeadersEditorEnabled={false} shouldPersistHeaders={false} />,
  );
}
