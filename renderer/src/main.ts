// Start-up: pick the transport (preload bridge in Electron, HTTP in browser mode) and mount the app.
import { mount } from 'svelte';
import App from './App.svelte';
import { selectLabApi } from './api/select';
import './global.css';

const { api, transport } = selectLabApi({
  qlabBridge: (window as unknown as { qlabBridge?: unknown }).qlabBridge,
  location: window.location,
});

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks the #app element');
mount(App, { target, props: { api, transport } });
