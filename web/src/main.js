// Entry point: styles, every page module (pages/index.js), then the shell.
import './style.css';
import './pages/index.js';
import { startShell } from './shell.js';

startShell(document.getElementById('app'));
